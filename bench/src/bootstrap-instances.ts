/**
 * Scale-out on Redis (issue 16), side by side in one run: the same load against one instance in memory,
 * one instance with `--redis`, and two instances sharing one Redis (every punch crossing instances: the
 * target registered at one, the candidate asking at the other; BOOTSTRAP alternating). For each:
 * registrations/s, BOOTSTRAP p50/p99 (client clock, one request at a time), coordinations/s
 * (CANDIDATE -> CHALLENGE -> ACCEPT -> FIGHT to both, `concurrency` at once), and from Redis's own
 * `INFO commandstats` deltas the Redis commands (scripts' inner calls included) and client round trips
 * (EVALSHA/GET/PUBLISH...) each registration, lookup and coordination costs. With Redis, a lookup is
 * served from each instance's listing pool (`--redis-listing-refresh`, default 1 s): its Redis figures
 * are the pool reads made during the phase (at most two a second per instance) spread over its requests.
 *
 * The servers are the CLI from source (`node --import tsx`, each its own process); redis-server is
 * started on a free port without persistence and stopped by PID. The lead calls
 * `runInstancesBench()` from `bench:bootstrap -- --instances 2 --redis`.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const SERVER_DIR = join(HERE, '..', '..', 'packages', 'bootstrap-server')
const TIMEOUT_MS = 60_000

export interface InstancesBenchOptions {
  /** Nodes registered (simultaneous, each its own connection) per setting. Default 2,000. */
  readonly nodes?: number
  /** BOOTSTRAP 10 requests timed per setting. Default 2,000. */
  readonly requests?: number
  /** Seconds of punching per setting. Default 3. */
  readonly punchSeconds?: number
  /** Punches in flight at once. Default 16. */
  readonly concurrency?: number
  /** Instances sharing Redis in the last setting. Default 2. */
  readonly instances?: number
  /** The redis-server binary. Default `redis-server`. */
  readonly redisServer?: string
}

export type InstancesBenchRow = {
  readonly setting: string
  readonly instances: number
  readonly registrationsPerSec: number
  readonly bootstrapP50Ms: number
  readonly bootstrapP99Ms: number
  readonly coordinationsPerSec: number
  /** Redis commands executed per operation (INFO commandstats delta; scripts' inner calls included). */
  readonly redisCmdsPerRegistration?: number
  readonly redisCmdsPerLookup?: number
  readonly redisCmdsPerCoordination?: number
  /** Script and PUBLISH round trips to Redis per operation (plain GETs not included: see commandStats). */
  readonly redisCallsPerRegistration?: number
  readonly redisCallsPerLookup?: number
  readonly redisCallsPerCoordination?: number
  /** Redis CPU per operation, µs (INFO cpu deltas: what bounds one Redis's capacity). */
  readonly redisCpuUsPerRegistration?: number
  readonly redisCpuUsPerLookup?: number
  readonly redisCpuUsPerCoordination?: number
}

// ------------------------------------------------------------------------------------ line client
class Client {
  readonly s: Socket
  #buf = ''
  readonly #lines: string[] = []
  #waiter: ((line: string) => void) | undefined

  private constructor(s: Socket) {
    this.s = s
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      this.#buf += d
      let i = this.#buf.indexOf('\r\n')
      while (i !== -1) {
        const line = this.#buf.slice(0, i)
        this.#buf = this.#buf.slice(i + 2)
        if (line.startsWith('PING ')) s.write(`PONG ${line.slice(5)}\r\n`)
        else if (this.#waiter !== undefined) {
          const w = this.#waiter
          this.#waiter = undefined
          w(line)
        } else this.#lines.push(line)
        i = this.#buf.indexOf('\r\n')
      }
    })
    s.on('error', () => {})
  }

  static async open(port: number): Promise<Client> {
    const s = connect({ host: '127.0.0.1', port, noDelay: true })
    await once(s, 'connect')
    const c = new Client(s)
    await c.next() // HELLO
    return c
  }

  next(): Promise<string> {
    const line = this.#lines.shift()
    if (line !== undefined) return Promise.resolve(line)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply in time')), TIMEOUT_MS)
      this.#waiter = (l) => {
        clearTimeout(t)
        resolve(l)
      }
    })
  }

  request(line: string): Promise<string> {
    this.s.write(`${line}\r\n`)
    return this.next()
  }
}

// --------------------------------------------------------------------------------- processes
async function freePort(): Promise<number> {
  const srv = createServer().listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  await new Promise((resolve) => srv.close(resolve))
  return port
}

async function waitOutput(child: ChildProcess, re: RegExp, what: string): Promise<RegExpMatchArray> {
  let out = ''
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${what} did not start: ${out}`)), TIMEOUT_MS)
    const onData = (d: Buffer): void => {
      out += String(d)
      const m = re.exec(out)
      if (m === null) return
      clearTimeout(t)
      child.stdout?.off('data', onData)
      child.stdout?.resume()
      resolve(m)
    }
    child.stdout?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}): ${out}`)))
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

async function startInstance(
  nodes: number,
  redisUrl: string | undefined,
): Promise<{ child: ChildProcess; port: number }> {
  const big = String(nodes * 4)
  const flags = [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--allow-unsigned',
    '--idle-timeout',
    '600000',
    '--line-rate',
    '1000000',
    '--line-burst',
    '1000000',
  ]
  for (const f of [
    'max-connections',
    'max-connections-per-ip',
    'max-connections-per-prefix',
    'max-nodes',
    'max-nodes-per-ip',
    'max-nodes-per-prefix',
    'max-pending-punches',
    'max-punches-per-ip',
    'max-punches-per-prefix',
  ]) {
    flags.push(`--${f}`, big)
  }
  // Entry refreshes (every third of the TTL) would land in the phases' deltas: counted apart (docs).
  if (redisUrl !== undefined) flags.push('--redis', redisUrl, '--redis-entry-ttl', '3600000')
  const child = spawn(
    'sh',
    [
      '-c',
      `ulimit -n 20000 && exec "${process.execPath}" --import tsx --conditions=@pyp2p/source src/bin.ts "$@"`,
      'sh',
      ...flags,
    ],
    { cwd: SERVER_DIR, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const m = await waitOutput(child, /listening on [^\s]+:(\d+)/, 'bootstrap-server')
  return { child, port: Number(m[1]) }
}

/** Commands, script/publish calls and CPU seconds Redis used so far (INFO all: commandstats, cpu). */
async function commandStats(port: number): Promise<{ cmds: number; calls: number; cpu: number }> {
  const c = connect({ host: '127.0.0.1', port })
  await once(c, 'connect')
  c.write('INFO all\r\n')
  let out = ''
  c.setEncoding('utf8')
  for await (const d of c) {
    out += d
    const m = /^\$(\d+)\r\n/.exec(out)
    if (m !== null && Buffer.byteLength(out) >= Number(m[1]) + m[0].length) break
  }
  c.destroy()
  let cmds = 0
  let calls = 0
  for (const m of out.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) {
    const [name, n] = [m[1] as string, Number(m[2])]
    if (
      name === 'info' ||
      name === 'ping' ||
      name === 'subscribe' ||
      name === 'client|setinfo' ||
      name === 'select'
    )
      continue
    cmds += n
    // Script and publish round trips (a plain GET cannot be told from a script's inner GET here: the
    // servers also send one GET per CANDIDATE for a target elsewhere; docs/scale-out.md counts it).
    if (['evalsha', 'eval', 'publish'].includes(name)) calls += n
  }
  const cpu = ['used_cpu_sys', 'used_cpu_user']
    .map((k) => Number(new RegExp(`^${k}:([0-9.]+)`, 'm').exec(out)?.[1] ?? 0))
    .reduce((a, b) => a + b, 0)
  return { cmds, calls, cpu }
}

// ------------------------------------------------------------------------------------- phases
const id = (n: number): string => n.toString(16).padStart(40, '0')

async function register(
  ports: readonly number[],
  nodes: number,
  base: number,
): Promise<{ clients: Client[]; seconds: number }> {
  const t0 = performance.now()
  const clients: Client[] = []
  for (let i = 0; i < nodes; i += 250) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(250, nodes - i) }, async (_, k) => {
        const c = await Client.open(ports[(i + k) % ports.length] as number)
        const r = await c.request(`SIMULTANEOUS READY ${10_000 + ((i + k) % 50_000)} 4 ${id(base + i + k)}`)
        if (r !== 'OK SIMULTANEOUS') throw new Error(`registration refused: ${r}`)
        return c
      }),
    )
    clients.push(...batch)
  }
  return { clients, seconds: (performance.now() - t0) / 1000 }
}

async function lookups(ports: readonly number[], requests: number): Promise<number[]> {
  const askers = await Promise.all(ports.map((p) => Client.open(p)))
  const ms: number[] = []
  for (let i = 0; i < requests; i++) {
    const c = askers[i % askers.length] as Client
    const t = performance.now()
    const r = await c.request('BOOTSTRAP 10')
    ms.push(performance.now() - t)
    if (!r.startsWith('NODES')) throw new Error(`BOOTSTRAP: ${r}`)
  }
  for (const c of askers) c.s.destroy()
  return ms.sort((a, b) => a - b)
}

/** Targets are `clients` registered at ports[0] (index even); candidates connect at the last port. */
async function punches(
  ports: readonly number[],
  targets: Client[],
  base: number,
  seconds: number,
  concurrency: number,
): Promise<number> {
  const candPort = ports[ports.length - 1] as number
  const end = performance.now() + seconds * 1000
  let done = 0
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      const cand = await Client.open(candPort)
      const target = targets[w] as Client
      const targetId = id(base + w * ports.length)
      while (performance.now() < end) {
        const set = await cand.request(`CANDIDATE ${targetId} ${id(0xc0000 + w)} TCP 40000`)
        const m = /^PREDICTION SET ([0-9a-f]+)$/.exec(set)
        if (m === null) throw new Error(`CANDIDATE: ${set}`)
        const challenge = await target.next()
        if (!challenge.startsWith('CHALLENGE')) throw new Error(`expected CHALLENGE, got ${challenge}`)
        const [fightT, fightC] = await Promise.all([target.request(`ACCEPT ${m[1]} TCP 50000`), cand.next()])
        if (!fightT.startsWith('FIGHT') || !fightC.startsWith('FIGHT'))
          throw new Error(`FIGHT: ${fightT} / ${fightC}`)
        done++
      }
      cand.s.destroy()
    }),
  )
  return done / seconds
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

export async function runInstancesBench(o: InstancesBenchOptions = {}): Promise<InstancesBenchRow[]> {
  const nodes = o.nodes ?? 2_000
  const requests = o.requests ?? 2_000
  const seconds = o.punchSeconds ?? 3
  const concurrency = o.concurrency ?? 16
  const redisPort = await freePort()
  const redis = spawn(
    o.redisServer ?? 'redis-server',
    ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const rows: InstancesBenchRow[] = []
  try {
    await waitOutput(redis, /Ready to accept connections/, 'redis-server')
    const url = `redis://127.0.0.1:${redisPort}`
    const settings = [
      { setting: 'memory', instances: 1, redis: false },
      { setting: 'redis', instances: 1, redis: true },
      { setting: 'redis', instances: Math.max(2, o.instances ?? 2), redis: true },
    ]
    let base = 0x100000
    for (const s of settings) {
      base += 0x100000
      const servers = await Promise.all(
        Array.from({ length: s.instances }, () => startInstance(nodes, s.redis ? url : undefined)),
      )
      const ports = servers.map((x) => x.port)
      try {
        const c0 = await commandStats(redisPort)
        const reg = await register(ports, nodes, base)
        const c1 = await commandStats(redisPort)
        const lat = await lookups(ports, requests)
        const c2 = await commandStats(redisPort)
        // Targets at the first instance: with two instances every other client, so every punch crosses.
        const targets = reg.clients.filter((_, i) => i % ports.length === 0)
        const perSec = await punches(ports, targets, base, seconds, concurrency)
        const c3 = await commandStats(redisPort)
        const coordinations = perSec * seconds
        rows.push({
          setting: `${s.setting} x${s.instances}`,
          instances: s.instances,
          registrationsPerSec: nodes / reg.seconds,
          bootstrapP50Ms: pct(lat, 0.5),
          bootstrapP99Ms: pct(lat, 0.99),
          coordinationsPerSec: perSec,
          ...(s.redis && {
            redisCmdsPerRegistration: (c1.cmds - c0.cmds) / nodes,
            redisCmdsPerLookup: (c2.cmds - c1.cmds) / requests,
            redisCmdsPerCoordination: (c3.cmds - c2.cmds) / coordinations,
            redisCallsPerRegistration: (c1.calls - c0.calls) / nodes,
            redisCallsPerLookup: (c2.calls - c1.calls) / requests,
            redisCallsPerCoordination: (c3.calls - c2.calls) / coordinations,
            redisCpuUsPerRegistration: ((c1.cpu - c0.cpu) * 1e6) / nodes,
            redisCpuUsPerLookup: ((c2.cpu - c1.cpu) * 1e6) / requests,
            redisCpuUsPerCoordination: ((c3.cpu - c2.cpu) * 1e6) / coordinations,
          }),
        })
        for (const c of reg.clients) c.s.destroy()
      } finally {
        await Promise.all(servers.map((x) => stop(x.child)))
      }
    }
  } finally {
    await stop(redis)
  }
  return rows
}

// Run directly: `tsx bench/src/bootstrap-instances.ts [nodes] [requests] [punch-seconds]`.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [nodes, requests, punchSeconds] = process.argv.slice(2).map(Number)
  const rows = await runInstancesBench({
    ...(nodes ? { nodes } : {}),
    ...(requests ? { requests } : {}),
    ...(punchSeconds ? { punchSeconds } : {}),
  })
  const { printTable, writeResults } = await import('./report.js')
  printTable('bootstrap-server: one instance in memory, one with Redis, two with Redis', rows)
  await writeResults('bootstrap-instances', rows)
}
