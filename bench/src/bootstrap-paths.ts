/**
 * Server CPU per command on the bootstrap server's hot paths, two builds side by side (issue 12): the
 * built CLI of each `--root` (a checkout with `packages/bootstrap-server/dist/bin.js`) runs in its own
 * process, rounds alternate between the builds, and this process is the only client. Per build and
 * round it registers `--nodes` unsigned nodes (`--passive` of them passive too), then:
 *   - latency: `--requests` BOOTSTRAP 10, then as many PING, one at a time (client clock, p50/p99);
 *   - CPU: the same two commands pipelined (`--depth` in flight, spread over the connections), server
 *     CPU time per command from /proc/<pid>/stat (user + system, 10 ms ticks: keep the counts large);
 *   - coordinations: CANDIDATE -> CHALLENGE -> ACCEPT -> FIGHT to both, `--concurrency` at once for
 *     `--punch-seconds`: rate and server CPU per coordination.
 * Server CPU per command does not move much with the machine's load, unlike the rates.
 *
 *   tsx src/bootstrap-paths.ts --root /path/old --root /path/new [--rounds 3] [--nodes 2000]
 *     [--passive 200] [--requests 3000] [--pipelined 40000] [--depth 32] [--punch-seconds 3]
 *     [--concurrency 32] ["--node-flags=--cpu-prof --cpu-prof-dir=/tmp/prof"]
 *     [--server-flags=--no-bootstrap-simultaneous] (server flags, given to the builds that have them)
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { printTable } from './report.js'

interface Conn {
  s: Socket
  id: string
  buf: string
  waiters: ((line: string) => void)[]
}

let onPush: (c: Conn, line: string) => void = () => {}

function attach(s: Socket, id: string): Conn {
  const c: Conn = { s, id, buf: '', waiters: [] }
  s.setEncoding('latin1')
  s.on('error', () => {})
  s.on('data', (d: string) => {
    c.buf += d
    let i = c.buf.indexOf('\r\n')
    while (i !== -1) {
      const line = c.buf.slice(0, i)
      c.buf = c.buf.slice(i + 2)
      if (line.startsWith('PING ')) s.write(`PONG ${line.slice(5)}\r\n`)
      else if (line.startsWith('CHALLENGE') || line.startsWith('FIGHT') || line.includes(' punch='))
        onPush(c, line)
      else c.waiters.shift()?.(line)
      i = c.buf.indexOf('\r\n')
    }
  })
  return c
}

const next = (c: Conn): Promise<string> => new Promise((resolve) => c.waiters.push(resolve))

/** CPU time the process has used, in ms: user + system, or `which` alone (10 ms ticks). */
function cpuMs(pid: number, which: 'all' | 'user' | 'system' = 'all'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const [user, system] = [Number(f[11]) * 10, Number(f[12]) * 10]
  return which === 'user' ? user : which === 'system' ? system : user + system
}

const pct = (s: number[], p: number): number =>
  s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0

async function startServer(
  root: string,
  nodes: number,
  nodeFlags: string,
  serverFlags: string,
): Promise<[ChildProcess, number]> {
  const bin = join(root, 'packages', 'bootstrap-server', 'dist', 'bin.js')
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' }).stdout
  const flags = ['--host', '127.0.0.1', '--port', '0', '--json', '--idle-timeout', '600000']
  flags.push('--max-connections', `${nodes + 1000}`, '--max-connections-per-ip', `${nodes}`)
  flags.push('--max-nodes', `${nodes * 2}`, '--max-nodes-per-ip', `${nodes * 2}`)
  if (help.includes('--allow-unsigned')) flags.push('--allow-unsigned')
  if (help.includes('--max-connections-per-prefix')) {
    flags.push('--max-connections-per-prefix', `${nodes + 1000}`, '--max-nodes-per-prefix', `${nodes * 2}`)
  }
  // `--server-flags`: passed to every build whose --help names them.
  for (const f of serverFlags.split(' ').filter((x) => x !== ''))
    if (help.includes(f.split('=')[0] as string)) flags.push(f)
  const args = [...nodeFlags.split(' ').filter((f) => f !== ''), bin, ...flags]
  const server = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    server.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m !== null) resolve(Number(m[1]))
    })
    server.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)))
  })
  return [server, port]
}

async function register(port: number, nodes: number, passive: number, round: number): Promise<Conn[]> {
  const conns: Conn[] = []
  for (let start = 0; start < nodes; start += 500) {
    const batch: Promise<void>[] = []
    for (let i = start; i < Math.min(nodes, start + 500); i++) {
      batch.push(
        (async () => {
          const id = (round * 1_000_000 + i).toString(16).padStart(40, '0')
          const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${2 + (i % 8)}` })
          const c = attach(s, id)
          if (!(await next(c)).startsWith('HELLO ')) throw new Error('no HELLO')
          s.write(`SIMULTANEOUS READY 7000 8 ${id}\r\n`)
          if ((await next(c)) !== 'OK SIMULTANEOUS') throw new Error('not registered')
          if (i < passive) {
            s.write(`PASSIVE READY 7001 8 f${id.slice(1)}\r\n`)
            if ((await next(c)) !== 'OK PASSIVE') throw new Error('passive not registered')
          }
          conns.push(c)
        })(),
      )
    }
    await Promise.all(batch)
  }
  return conns
}

/** One at a time on random connections: client-side latency samples (ms). */
async function sequential(conns: Conn[], line: string, n: number): Promise<number[]> {
  const samples: number[] = []
  for (let r = 0; r < n; r++) {
    const c = conns[Math.floor(Math.random() * conns.length)] as Conn
    const reply = next(c)
    const t0 = process.hrtime.bigint()
    c.s.write(`${line}\r\n`)
    await reply
    samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return samples.sort((a, b) => a - b)
}

/** `n` commands, `depth` in flight, each on the next connection (stays under the per-connection line rate). */
async function pipelined(conns: Conn[], line: string, n: number, depth: number): Promise<void> {
  let sent = 0
  let k = 0
  const lane = async (): Promise<void> => {
    while (sent < n) {
      sent++
      const c = conns[k++ % conns.length] as Conn
      const reply = next(c)
      c.s.write(`${line}\r\n`)
      await reply
    }
  }
  await Promise.all(Array.from({ length: depth }, lane))
}

async function coordinate(conns: Conn[], ms: number, concurrency: number): Promise<[number, number]> {
  const pairs = Math.floor(conns.length / 2)
  const pending = new Map<string, number>()
  let completed = 0
  let errors = 0
  let k = 0
  let stopping = false
  let inFlight = 0
  let done: () => void = () => {}
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const start = (): void => {
    if (stopping) {
      if (inFlight === 0) done()
      return
    }
    const cand = conns[(2 * k) % (2 * pairs)] as Conn
    const target = conns[(2 * k + 1) % (2 * pairs)] as Conn
    k++
    inFlight++
    const reply = next(cand)
    cand.s.write(`CANDIDATE ${target.id} ${cand.id} TCP 40001 40002\r\n`)
    void reply.then((line) => {
      if (line.startsWith('PREDICTION SET ')) pending.set(line.slice(15), 2)
      else end(false)
    })
  }
  const end = (ok: boolean): void => {
    inFlight--
    ok ? completed++ : errors++
    start()
  }
  onPush = (c, line) => {
    const w = line.split(' ')
    if (w[0] === 'CHALLENGE') c.s.write(`ACCEPT ${w[1]} TCP 50001 50002\r\n`)
    else if (w[0] === 'FIGHT') {
      const left = (pending.get(w[1] as string) ?? 1) - 1
      if (left > 0) pending.set(w[1] as string, left)
      else if (pending.delete(w[1] as string)) end(true)
    } else if (w[0] === 'ERROR') {
      const id = w.find((x) => x.startsWith('punch='))?.slice(6)
      if (id !== undefined && pending.delete(id)) end(false)
    }
  }
  for (let i = 0; i < concurrency; i++) start()
  setTimeout(() => {
    stopping = true
    if (inFlight === 0) done()
  }, ms)
  await finished
  return [completed, errors]
}

async function runOne(root: string, round: number, o: Options): Promise<Record<string, unknown>> {
  const [server, port] = await startServer(root, o.nodes, o.nodeFlags, o.serverFlags)
  const pid = server.pid as number
  try {
    let cpu0 = cpuMs(pid)
    let t0 = performance.now()
    const conns = await register(port, o.nodes, o.passive, round)
    const regCpu = cpuMs(pid) - cpu0
    const regSec = (performance.now() - t0) / 1000
    await sequential(conns, 'BOOTSTRAP 10', 500) // warm-up
    const boot = await sequential(conns, 'BOOTSTRAP 10', o.requests)
    const ping = await sequential(conns, 'PING t', o.requests)
    const perOp = async (line: string): Promise<string> => {
      const [u0, s0] = [cpuMs(pid, 'user'), cpuMs(pid, 'system')]
      await pipelined(conns, line, o.pipelined, o.depth)
      const us = (ms: number): number => Number(((ms * 1000) / o.pipelined).toFixed(1))
      return `${us(cpuMs(pid, 'user') - u0)} + ${us(cpuMs(pid, 'system') - s0)}`
    }
    const bootCpu = await perOp('BOOTSTRAP 10')
    const pingCpu = await perOp('PING t')
    cpu0 = cpuMs(pid)
    t0 = performance.now()
    const [completed, errors] = await coordinate(conns, o.punchMs, o.concurrency)
    const punchCpu = cpuMs(pid) - cpu0
    const punchSec = (performance.now() - t0) / 1000
    for (const c of conns) c.s.destroy()
    return {
      build: root,
      round,
      registrationsPerSec: Math.round(o.nodes / regSec),
      cpuUsPerRegistration: Math.round((regCpu * 1000) / o.nodes),
      bootstrapP50Ms: Number(pct(boot, 50).toFixed(4)),
      bootstrapP99Ms: Number(pct(boot, 99).toFixed(4)),
      pingP50Ms: Number(pct(ping, 50).toFixed(4)),
      pingP99Ms: Number(pct(ping, 99).toFixed(4)),
      // Server CPU per command, user + system (µs).
      bootstrapCpuUs: bootCpu,
      pingCpuUs: pingCpu,
      coordinationsPerSec: Math.round(completed / punchSec),
      cpuUsPerCoordination: Number(((punchCpu * 1000) / Math.max(1, completed)).toFixed(1)),
      punchErrors: errors,
    }
  } finally {
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
  }
}

type Counts = 'nodes' | 'passive' | 'requests' | 'pipelined' | 'depth' | 'punchMs' | 'concurrency'
type Options = Record<Counts, number> & Record<'nodeFlags' | 'serverFlags', string>

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', multiple: true },
      rounds: { type: 'string', default: '3' },
      nodes: { type: 'string', default: '2000' },
      passive: { type: 'string', default: '200' },
      requests: { type: 'string', default: '3000' },
      pipelined: { type: 'string', default: '40000' },
      depth: { type: 'string', default: '32' },
      'punch-seconds': { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
      'node-flags': { type: 'string', default: '' },
      'server-flags': { type: 'string', default: '' },
    },
  })
  const roots = values.root ?? []
  if (roots.length === 0) throw new Error('give at least one --root')
  const o: Options = {
    nodes: Number(values.nodes),
    passive: Number(values.passive),
    requests: Number(values.requests),
    pipelined: Number(values.pipelined),
    depth: Number(values.depth),
    punchMs: Number(values['punch-seconds']) * 1000,
    concurrency: Number(values.concurrency),
    nodeFlags: values['node-flags'],
    serverFlags: values['server-flags'],
  }
  const rows: Record<string, unknown>[] = []
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const root of round % 2 === 1 ? roots : [...roots].reverse()) rows.push(await runOne(root, round, o))
  }
  printTable('bootstrap server hot paths: server CPU per command, builds alternating', rows)
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
