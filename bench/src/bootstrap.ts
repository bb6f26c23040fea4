/**
 * The bootstrap server under load, on loopback: how many registered nodes it holds, reply latency at that
 * load, RSS per connection, and punch coordinations per second.
 *
 * The server is the built CLI (`packages/bootstrap-server/dist/bin.js`, plain Node, no tsx) in its own
 * process with `ulimit -n 20000`. Client workers (this file with `--worker`, several processes so no
 * single client holds every socket) open the connections from several loopback source addresses
 * (127.0.0.2 ...), each registering `SIMULTANEOUS READY` and answering the server's PINGs. Then:
 *   1. RSS: /proc/<server pid>/status VmRSS after the ramp, minus VmRSS of the idle server, / nodes held.
 *      Then the breakdown (issue 16): each server preloads heap-breakdown.ts's probe, which on SIGUSR2
 *      runs a full GC and reports `process.memoryUsage()`; idle and loaded, that splits the bytes per
 *      connection into live JS heap, unused heap, external buffers and native (the rest of RSS). With
 *      `--heap-snapshot` it also writes heap snapshots and prints heap bytes per connection by type
 *      (writing a snapshot takes memory that stays in RSS: take RSS figures from a run without it).
 *      A bare Node `net` server (one `data` listener that greets and answers every line with
 *      `OK SIMULTANEOUS`: no parsing, no state) is measured the same way in every run (`--no-bare` skips).
 *   2. Latency: one worker sends PING / SOURCE TCP / BOOTSTRAP 10 (in turn) on random connections of its
 *      own, one at a time, and times request to reply (client clock); p50/p99 over all samples.
 *   3. Coordinations: each worker keeps `concurrency` punches going between pairs of its connections
 *      (CANDIDATE -> CHALLENGE -> ACCEPT -> FIGHT to both) for a fixed time; FIGHT pairs per second.
 *   4. Signed vs unsigned (issue 17): every setting runs twice, once against a server with
 *      `--allow-unsigned` and clients that sign nothing, once against the default server with clients
 *      that sign (Ed25519, `@pyp2p/identity`, over the HELLO's nonce) every `READY` and the first
 *      `CANDIDATE` as an id not proven on that connection yet: a server whose HELLO says
 *      `proofs=connection` holds a proven id for the rest of the connection (PROTOCOL.md). With
 *      `--sign-every`, a third run whose clients sign every command (the cost before that).
 *      Registrations/s is nodes held / ramp seconds (connect, HELLO, READY -> OK, in batches of 500);
 *      the keys are generated before the ramp starts (a node has its key before it registers).
 *
 *   npm run bench:bootstrap -- [--nodes 19000] [--workers 4] [--requests 5000] [--punch-seconds 3]
 *                              [--concurrency 32] [--node-flags=--max-semi-space-size=1] [--no-bare]
 *                              [--no-unsigned] [--no-signed] [--sign-every] [--heap-snapshot]
 *
 * Writes bench/results/bootstrap.json.
 */
import { type ChildProcess, fork, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { NodeIdentity } from '@pyp2p/identity'
import { proofFields, RENDEZVOUS_SIGNATURE_CONTEXT } from '@pyp2p/rendezvous-protocol'
import { runInstancesBench } from './bootstrap-instances.js'
import { MEMORY_PROBE, type MemorySample, perConnection, snapshotDelta } from './heap-breakdown.js'
import { printTable, writeResults } from './report.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const SERVER_BIN = join(HERE, '..', '..', 'packages', 'bootstrap-server', 'dist', 'bin.js')
const FD_LIMIT = 20_000
const BATCH = 500
const STEP_TIMEOUT_MS = 120_000
/** Connections per worker that also register a passive node (so BOOTSTRAP has passive entries). */
const PASSIVE_PER_WORKER = 50

/**
 * The floor: a bare Node `net` server with one shared `data` listener that greets and answers every
 * line with `OK SIMULTANEOUS` (no parsing, no state), measured the same way.
 */
const BARE_SERVER = `
const net = require('node:net')
function onData() { this.write('OK SIMULTANEOUS\\r\\n') }
function noop() {}
const server = net.createServer({ noDelay: true }, (s) => {
  s.on('data', onData); s.on('error', noop); s.setKeepAlive(true, 60000); s.write('HELLO PYP2P/1 127.0.0.1 1\\r\\n')
})
server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => console.log('listening on 127.0.0.1:' + server.address().port))
process.on('SIGTERM', () => process.exit(0))
`

type Cmd =
  | { cmd: 'prepare'; count: number; passive: number; signed: boolean; signEvery: boolean }
  | { cmd: 'open'; port: number; count: number; worker: number; addresses: string[]; passive: number }
  | { cmd: 'latency'; requests: number }
  | { cmd: 'punch'; ms: number; concurrency: number }

// ------------------------------------------------------------------------------------------ worker
interface Conn {
  s: Socket
  id: string
  buf: string
  waiters: ((line: string) => void)[]
  /** The node's key when the run signs; the HELLO's nonce and server id. */
  me?: NodeIdentity | undefined
  nonce: string
  serverId: string
  /** The HELLO said `proofs=connection`: a proven id needs no signature on this connection. */
  binds: boolean
  /** The id this connection proved last (its later commands as it go unsigned, when `binds`). */
  proven: string | undefined
}

/**
 * `line` with its proof (`SIG <key> <signature>`) when `who` is given and has not been proven on this
 * connection already (PROTOCOL.md, "Proven connections"; `--sign-every` signs every command), else `line`.
 */
function signed(c: Conn, who: NodeIdentity | undefined, line: string): string {
  if (who === undefined || (c.binds && !signEvery && c.proven === who.nodeId)) return line
  const sig = who.sign(RENDEZVOUS_SIGNATURE_CONTEXT, proofFields(c.nonce, c.serverId, line))
  return `${line} SIG ${who.publicKey} ${sig.toString('base64url')}`
}

/** `--sign-every` (worker side): sign every command, as clients did before proven connections. */
let signEvery = false

/** A signed command by `who` succeeded on `c`: the server holds its id proven there. */
function proved(c: Conn, who: NodeIdentity | undefined): void {
  if (who !== undefined) c.proven = who.nodeId
}

function workerMain(): void {
  const conns: Conn[] = []
  /** Keys made by `prepare`, before the timed ramp: a node has its key long before it registers. */
  let keys: { me: NodeIdentity[]; passive: NodeIdentity[] } = { me: [], passive: [] }
  let onPush: (conn: Conn, line: string) => void = () => {}
  const send = (m: unknown): void => {
    process.send?.(m)
  }

  function attach(s: Socket, id: string, me: NodeIdentity | undefined): Conn {
    const c: Conn = {
      s,
      id,
      buf: '',
      waiters: [],
      me,
      nonce: '',
      serverId: '',
      binds: false,
      proven: undefined,
    }
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

  async function openOne(
    port: number,
    localAddress: string,
    id: string,
    passiveId: string | undefined,
    me: NodeIdentity | undefined,
    passiveMe: NodeIdentity | undefined,
  ): Promise<boolean> {
    const s = connect({ host: '127.0.0.1', port, localAddress })
    const c = attach(s, id, me)
    const hello = next(c)
    const ok = await Promise.race([
      (async () => {
        const greeting = await hello
        if (!greeting.startsWith('HELLO ')) return false
        for (const w of greeting.split(' ')) {
          if (w.startsWith('nonce=')) c.nonce = w.slice(6)
          if (w.startsWith('server=')) c.serverId = w.slice(7)
          if (w === 'proofs=connection') c.binds = true
        }
        s.write(`${signed(c, me, `SIMULTANEOUS READY 7000 8 ${id}`)}\r\n`)
        if ((await next(c)) !== 'OK SIMULTANEOUS') return false
        proved(c, me)
        if (passiveId !== undefined) {
          s.write(`${signed(c, passiveMe, `PASSIVE READY 7001 8 ${passiveId}`)}\r\n`)
          if ((await next(c)) !== 'OK PASSIVE') return false
          proved(c, passiveMe)
        }
        return true
      })(),
      new Promise<boolean>((resolve) => {
        s.once('close', () => resolve(false))
        setTimeout(() => resolve(false), 30_000).unref()
      }),
    ])
    if (ok) conns.push(c)
    else s.destroy()
    return ok
  }

  function prepare(m: Extract<Cmd, { cmd: 'prepare' }>): void {
    const make = (n: number): NodeIdentity[] => Array.from({ length: n }, () => NodeIdentity.generate())
    keys = m.signed
      ? { me: make(m.count), passive: make(Math.min(m.passive, m.count)) }
      : { me: [], passive: [] }
    signEvery = m.signEvery
    send({ prepared: keys.me.length })
  }

  async function open(m: Extract<Cmd, { cmd: 'open' }>): Promise<void> {
    let opened = 0
    let failed = 0
    for (let start = 0; start < m.count; start += BATCH) {
      const batch: Promise<boolean>[] = []
      for (let i = start; i < Math.min(m.count, start + BATCH); i++) {
        const me = keys.me[i]
        const passiveMe = i < m.passive ? keys.passive[i] : undefined
        const id = me?.nodeId ?? (m.worker * 1_000_000 + i).toString(16).padStart(40, '0')
        const passive =
          passiveMe?.nodeId ??
          (i < m.passive ? (0xf0000000 + m.worker * 1_000_000 + i).toString(16).padStart(40, '0') : undefined)
        const from = m.addresses[i % m.addresses.length] as string
        batch.push(openOne(m.port, from, id, passive, me, passiveMe))
      }
      for (const ok of await Promise.all(batch)) ok ? opened++ : failed++
    }
    send({ opened, failed })
  }

  async function latency(requests: number): Promise<void> {
    const samples: number[] = []
    const kinds = ['PING t', 'SOURCE TCP 5000', 'BOOTSTRAP 10']
    for (let r = 0; r < requests && conns.length > 0; r++) {
      const c = conns[Math.floor(Math.random() * conns.length)] as Conn
      const reply = next(c)
      const t0 = process.hrtime.bigint()
      c.s.write(`${kinds[r % kinds.length]}\r\n`)
      await reply
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6)
    }
    send({ samples })
  }

  async function punch(ms: number, concurrency: number): Promise<void> {
    const pairs = Math.floor(conns.length / 2)
    if (pairs === 0) return send({ completed: 0, errors: 0 })
    const pending = new Map<string, number>() // punch id -> FIGHT lines still to come
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
      cand.s.write(`${signed(cand, cand.me, `CANDIDATE ${target.id} ${cand.id} TCP 40001 40002`)}\r\n`)
      reply.then((line) => {
        if (line.startsWith('PREDICTION SET ')) {
          proved(cand, cand.me)
          pending.set(line.slice(15), 2)
        } else end(false)
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
    const t0 = performance.now()
    for (let i = 0; i < concurrency; i++) start()
    setTimeout(() => {
      stopping = true
      if (inFlight === 0) done()
    }, ms)
    await finished
    send({ completed, errors, seconds: (performance.now() - t0) / 1000 })
  }

  process.on('message', (m: Cmd) => {
    if (m.cmd === 'prepare') prepare(m)
    else if (m.cmd === 'open') void open(m)
    else if (m.cmd === 'latency') void latency(m.requests)
    else if (m.cmd === 'punch') void punch(m.ms, m.concurrency)
  })
  process.on('disconnect', () => process.exit(0))
}

// ------------------------------------------------------------------------------------------ parent
function ask<T>(child: ChildProcess, m: Cmd): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not answer ${m.cmd}`)), STEP_TIMEOUT_MS)
    child.once('message', (r) => {
      clearTimeout(timer)
      resolve(r as T)
    })
    child.send(m)
  })
}

/** CPU time (user + system) the process has used, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces, so split after its closing parenthesis).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

function vmRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? Number.NaN : Number(m[1]) * 1024
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN
}

interface Started {
  server: ChildProcess
  port: number
  /** A full GC in the server, then its `process.memoryUsage()` (heap-breakdown.ts's probe). */
  memory: () => Promise<MemorySample>
}

async function startServer(
  nodes: number,
  nodeFlags: string,
  bare: boolean,
  signed: boolean,
  probe: Probe,
): Promise<Started> {
  const flags = [
    `--host 127.0.0.1 --port 0 --json${signed ? '' : ' --allow-unsigned'}`,
    `--max-connections ${nodes + 1000} --max-connections-per-ip ${nodes} --max-nodes-per-ip ${nodes * 2}`,
    // Every bench client is on 127.0.0.0/8, one /24 for the server's prefix limits. Nodes, not
    // connections: some connections register a passive node too (`PASSIVE_PER_WORKER`), so the node
    // limits must hold more than `nodes` (at `nodes`, the last 100 of 4,000 + 100 were refused).
    `--max-connections-per-prefix ${nodes + 1000} --max-nodes-per-prefix ${nodes * 2}`,
    `--max-nodes ${nodes * 2} --idle-timeout 600000`,
  ].join(' ')
  const script = bare ? '-e "$BARE_SERVER"' : `"${SERVER_BIN}" ${flags}`
  // `exec` keeps the pid: /proc/<pid> is the server's own.
  const server = spawn(
    'sh',
    [
      '-c',
      `ulimit -n ${FD_LIMIT} && exec "${process.execPath}" --expose-gc --import "${probe.url}" ${nodeFlags} ${script}`,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BARE_SERVER,
        ...(probe.snapshotDir === undefined ? {} : { PYP2P_BENCH_SNAPSHOT_DIR: probe.snapshotDir }),
      },
    },
  )
  const samples: ((m: MemorySample) => void)[] = []
  const port = await new Promise<number>((resolve, reject) => {
    let out = ''
    let pending = ''
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000)
    server.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (out.length < 100_000) out += d
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out)
      if (m !== null) {
        clearTimeout(timer)
        resolve(Number(m[1]))
      }
      pending += d
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      for (const line of lines)
        if (line.startsWith('MEM ')) samples.shift()?.(JSON.parse(line.slice(4)) as MemorySample)
    })
    server.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)))
  })
  const memory = (): Promise<MemorySample> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not report its memory')), STEP_TIMEOUT_MS)
      samples.push((m) => {
        clearTimeout(timer)
        resolve(m)
      })
      server.kill('SIGUSR2')
    })
  return { server, port, memory }
}

/** The memory probe's module (a file URL) and where heap snapshots go (`--heap-snapshot`). */
interface Probe {
  url: string
  snapshotDir: string | undefined
}

async function runOnce(opts: {
  nodes: number
  workers: number
  requests: number
  punchMs: number
  concurrency: number
  nodeFlags: string
  bare: boolean
  signed: boolean
  /** Signed clients sign every command (no use of proven connections). */
  signEvery: boolean
  probe: Probe
}): Promise<Record<string, unknown>> {
  const { server, port, memory } = await startServer(
    opts.nodes,
    opts.nodeFlags,
    opts.bare,
    opts.signed,
    opts.probe,
  )
  const pid = server.pid as number
  await sleep(500)
  const rssIdle = vmRssBytes(pid)
  const memIdle = await memory()
  const workers = Array.from({ length: opts.workers }, () =>
    fork(fileURLToPath(import.meta.url), ['--worker'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' }),
  )
  try {
    const per = Math.ceil(opts.nodes / opts.workers)
    const count = (i: number): number => Math.min(per, opts.nodes - i * per)
    const passive = opts.bare ? 0 : PASSIVE_PER_WORKER
    await Promise.all(
      workers.map((w, i) =>
        ask(w, { cmd: 'prepare', count: count(i), passive, signed: opts.signed, signEvery: opts.signEvery }),
      ),
    )
    const t0 = performance.now()
    const cpuRamp0 = cpuMs(pid)
    const opened = await Promise.all(
      workers.map((w, i) =>
        ask<{ opened: number; failed: number }>(w, {
          cmd: 'open',
          port,
          count: count(i),
          worker: i,
          // Four source addresses per worker: 127.0.0.(2 + 4i) ...
          addresses: [0, 1, 2, 3].map((a) => `127.0.0.${2 + i * 4 + a}`),
          passive,
        }),
      ),
    )
    const rampSeconds = (performance.now() - t0) / 1000
    const cpuRamp = cpuMs(pid) - cpuRamp0
    const held = opened.reduce((n, o) => n + o.opened, 0)
    const failed = opened.reduce((n, o) => n + o.failed, 0)
    await sleep(2000)
    const rssHeld = vmRssBytes(pid)
    // One prober, one request at a time (as a node would), while every connection stays registered.
    const lat = await ask<{ samples: number[] }>(workers[0] as ChildProcess, {
      cmd: 'latency',
      requests: opts.requests,
    })
    const samples = lat.samples.sort((a, b) => a - b)
    const cpuPunch0 = cpuMs(pid)
    const punches = await Promise.all(
      (opts.bare ? [] : workers).map((w) =>
        ask<{ completed: number; errors: number; seconds: number }>(w, {
          cmd: 'punch',
          ms: opts.punchMs,
          concurrency: opts.concurrency,
        }),
      ),
    )
    const cpuPunch = cpuMs(pid) - cpuPunch0
    // The heap with every node registered, after the timed phases: the probe's full GC before them
    // changed what they measured (p99 0.21-0.27 ms without it, up to 0.42 with it; builds before the
    // probe had none). Punches completed by now hold no state, so the heap is the registered nodes'.
    const memHeld = await memory()
    const completed = punches.reduce((n, p) => n + p.completed, 0)
    const seconds = Math.max(1e-9, ...punches.map((p) => p.seconds))
    return {
      server: opts.bare ? 'bare net (floor)' : 'bootstrap-server',
      proofs: opts.bare ? '-' : opts.signed ? (opts.signEvery ? 'signed every' : 'signed') : 'unsigned',
      serverNodeFlags: opts.nodeFlags || '(none)',
      target: opts.nodes,
      held,
      failed,
      rampSeconds: Number(rampSeconds.toFixed(1)),
      registrationsPerSec: Math.round(held / Math.max(1e-9, rampSeconds)),
      // Server CPU per operation: what throughput would be were the server alone on its cores (the
      // clients share this machine's cores with it, so the rates above move with the load).
      serverCpuUsPerRegistration: Math.round((cpuRamp * 1000) / Math.max(1, held)),
      p50Ms: percentile(samples, 50),
      p99Ms: percentile(samples, 99),
      requests: samples.length,
      rssIdleMB: rssIdle / 2 ** 20,
      rssHeldMB: rssHeld / 2 ** 20,
      rssPerConnBytes: Math.round((rssHeld - rssIdle) / Math.max(1, held)),
      ...perConnection(memIdle, memHeld, held),
      coordinationsPerSec: opts.bare ? undefined : Math.round(completed / seconds),
      serverCpuUsPerCoordination: opts.bare
        ? undefined
        : Math.round((cpuPunch * 1000) / Math.max(1, completed)),
      punchErrors: punches.reduce((n, p) => n + p.errors, 0),
      rssAfterPunchMB: vmRssBytes(pid) / 2 ** 20,
      ...(memIdle.snapshot === undefined || memHeld.snapshot === undefined
        ? {}
        : { snapshots: [memIdle.snapshot, memHeld.snapshot] }),
    }
  } finally {
    for (const w of workers) w.kill()
    server.kill('SIGTERM')
    await new Promise((resolve) => server.once('exit', resolve))
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '19000' },
      workers: { type: 'string', default: '4' },
      requests: { type: 'string', default: '5000' },
      'punch-seconds': { type: 'string', default: '3' },
      concurrency: { type: 'string', default: '32' },
      // Repeatable: one run per value ('' = Node defaults).
      'node-flags': { type: 'string', multiple: true },
      // Accepted for old command lines: the bare net server (the floor) is measured by default now.
      calibrate: { type: 'boolean', default: false },
      // Skip the bare net server.
      'no-bare': { type: 'boolean', default: false },
      // Heap snapshots of each server idle and loaded: bytes per connection by object type (slow).
      'heap-snapshot': { type: 'boolean', default: false },
      // Only the signed run (skip the unsigned comparison).
      'no-unsigned': { type: 'boolean', default: false },
      // Only the unsigned run (the row to compare with builds from before signed registrations).
      'no-signed': { type: 'boolean', default: false },
      // Also a signed run whose clients sign every command (as before proven connections).
      'sign-every': { type: 'boolean', default: false },
      // Scale-out: one instance in memory, one with Redis, N with Redis, side by side (needs redis-server).
      instances: { type: 'string' },
      redis: { type: 'boolean', default: false },
    },
  })
  if (values.redis || values.instances !== undefined) {
    const rows = await runInstancesBench({
      nodes: Math.min(Number(values.nodes), 2_000),
      requests: Number(values.requests),
      punchSeconds: Number(values['punch-seconds']),
      instances: Number(values.instances ?? 2),
    })
    printTable('bootstrap server: memory vs Redis, one and more instances', rows)
    await writeResults('bootstrap-instances', rows)
    return
  }
  const variants = values['node-flags'] ?? ['', '--max-semi-space-size=1']
  const rows: Record<string, unknown>[] = []
  const servers = values['no-bare'] ? [false] : [false, true]
  const tmp = mkdtempSync(join(tmpdir(), 'pyp2p-bench-bootstrap-'))
  const probeFile = join(tmp, 'memory-probe.mjs')
  writeFileSync(probeFile, MEMORY_PROBE)
  const probe: Probe = {
    url: pathToFileURL(probeFile).href,
    snapshotDir: values['heap-snapshot'] ? tmp : undefined,
  }
  const proofs: { signed: boolean; signEvery: boolean }[] = [
    ...(values['no-unsigned'] ? [] : [{ signed: false, signEvery: false }]),
    ...(values['no-signed'] ? [] : [{ signed: true, signEvery: false }]),
    ...(values['sign-every'] ? [{ signed: true, signEvery: true }] : []),
  ]
  for (const nodeFlags of variants) {
    for (const bare of servers)
      for (const { signed, signEvery } of bare ? [{ signed: false, signEvery: false }] : proofs)
        rows.push(
          await runOnce({
            bare,
            signed,
            signEvery,
            nodes: Number(values.nodes),
            workers: Number(values.workers),
            requests: Number(values.requests),
            punchMs: Number(values['punch-seconds']) * 1000,
            concurrency: Number(values.concurrency),
            nodeFlags,
            probe,
          }),
        )
  }
  for (const row of rows.filter((r) => r.proofs === 'signed' || r.proofs === 'signed every')) {
    const base = rows.find((r) => r.proofs === 'unsigned' && r.serverNodeFlags === row.serverNodeFlags)
    if (base === undefined) continue
    const ratio = (k: string) => Number(((row[k] as number) / (base[k] as number)).toFixed(2))
    row.registrationsVsUnsigned = ratio('registrationsPerSec')
    row.coordinationsVsUnsigned = ratio('coordinationsPerSec')
    // The same ratios from server CPU per operation (unsigned / signed): robust to the machine's load.
    const cpuRatio = (k: string) => Number(((base[k] as number) / (row[k] as number)).toFixed(2))
    row.registrationsVsUnsignedByCpu = cpuRatio('serverCpuUsPerRegistration')
    row.coordinationsVsUnsignedByCpu = cpuRatio('serverCpuUsPerCoordination')
  }
  const breakdown = rows.map((r) => ({
    server: r.server,
    proofs: r.proofs,
    serverNodeFlags: r.serverNodeFlags,
    held: r.held,
    rssPerConnBytes: r.rssPerConnBytes,
    rssAfterGcPerConn: r.rssAfterGcPerConn,
    heapLivePerConn: r.heapLivePerConn,
    heapSlackPerConn: r.heapSlackPerConn,
    externalPerConn: r.externalPerConn,
    nativePerConn: r.nativePerConn,
  }))
  printTable(
    'bootstrap server on loopback (RSS of the server process; latency measured by the clients)',
    rows.map(
      ({
        rssAfterGcPerConn,
        heapLivePerConn,
        heapSlackPerConn,
        externalPerConn,
        nativePerConn,
        snapshots,
        ...r
      }) => r,
    ),
  )
  printTable(
    'bytes per held connection (RSS as measured; then after a full GC: live JS heap, unused heap, external buffers, native = the rest of RSS)',
    breakdown,
  )
  for (const flags of variants) printSnapshots(rows.filter((r) => r.serverNodeFlags === (flags || '(none)')))
  rmSync(tmp, { recursive: true, force: true })
  const file = await writeResults('bootstrap', rows)
  console.log(`\nwrote ${file}`)
}

/** `--heap-snapshot`: heap bytes per connection by object type, each server side by side (largest first). */
function printSnapshots(rows: readonly Record<string, unknown>[]): void {
  const named = rows.filter((r) => Array.isArray(r.snapshots))
  if (named.length === 0) return
  const table = new Map<string, Record<string, unknown>>()
  for (const r of named) {
    const [idle, held] = r.snapshots as [string, string]
    const column = `${r.server === 'bootstrap-server' ? `ours ${r.proofs}` : 'bare'} B/conn`
    for (const d of snapshotDelta(idle, held, r.held as number)) {
      const row = table.get(d.type) ?? { type: d.type }
      row[column] = d.bytesPerConn
      row[`${column.split(' ')[0]} objs`] = d.objectsPerConn
      table.set(d.type, row)
    }
    delete (r as { snapshots?: unknown }).snapshots
  }
  printTable(
    `heap snapshot per held connection, by object type (${named[0]?.serverNodeFlags}; "synthetic" = native size V8 is told of)`,
    [...table.values()].slice(0, 30),
  )
}

if (process.argv.includes('--worker')) workerMain()
else
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
