/**
 * Secure connections (@pyp2p/secure) against plain lines, each end in its own process (this one sends
 * and dials; bench/src/secure-peer.ts, a child process, receives and listens), so each end's crypto runs
 * on its own core as between two nodes:
 *
 * - handshake on loopback: TCP connect + the Noise XX handshake (secure) vs TCP connect + a hello line
 *   and its reply (plain), p50 and p99, measured by the dialler;
 * - CPU per handshake, both processes added (process.cpuUsage; the receiver answers `CPU`);
 * - lines/s at 16 B, 100 B and 4 KiB: @pyp2p/framing's LineSocket over a SecureStream vs over the raw
 *   socket, the receiver counting lines (the lines of one tick leave as one encrypted frame); plain and
 *   secure runs alternate, and the ratio is the median of each back-to-back pair's ratio; with each
 *   run's CPU per line, both processes added (on a shared machine less noisy than lines/s: its ratio,
 *   plain / secure, is the lines/s ratio two CPU-bound ends would reach);
 * - memory per idle connection end, inbound and outbound: RSS and heap (V8 heap used + external) after
 *   GC, with `--idle` ends held by a child process of its own per mode and direction
 *   (bench/src/secure-idle.ts): RSS includes what the handshakes' garbage leaves behind;
 * - time to first line through @pyp2p/net on loopback (both Nets in this process), p50/p99;
 * - time to first line through a hole punch in the NAT lab (bench/src/secure-punch.ts; needs root, skip
 *   with `--no-lab`), p50/p99.
 *
 *   pnpm --filter @pyp2p/bench run secure [--handshakes 300] [--runs 5] [--idle 2000] [--firstlines 200]
 *     [--punches 10] [--no-lab]
 *
 * Writes bench/results/secure.json.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { secureInbound, secureOutbound } from '@pyp2p/secure'
import { printTable, writeResults } from './report.js'
import { netFirstLine } from './secure-net.js'
import { punchFirstLine } from './secure-punch.js'

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string', default: '300' },
    runs: { type: 'string', default: '5' },
    idle: { type: 'string', default: '2000' },
    firstlines: { type: 'string', default: '200' },
    punches: { type: 'string', default: '10' },
    lab: { type: 'boolean', default: true },
  },
  allowNegative: true,
})
const HANDSHAKES = Number(values.handshakes)
const RUNS = Number(values.runs)
const IDLE = Number(values.idle)
// Lines per throughput run for each size: about a second per run here (32 MiB, 100 MiB, 1 GiB).
// Shorter runs (6-32 MiB, 30-100 ms at loopback speed) were dominated by connection set-up, JIT
// warm-up and garbage from the run before, and swung 2x from run to run; 4 KiB had been left at
// 40,000 lines (160 MiB, 0.1 s plain), so its ratio was the noisiest row.
const SIZES: [number, number][] = [
  [16, 2_000_000],
  [100, 1_000_000],
  [4096, 250_000],
]
const BATCH = 256 // lines sent per tick before yielding

type Mode = 'plain' | 'secure'
const MODES: Mode[] = ['plain', 'secure']
const identity = NodeIdentity.generate()
const child = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url))

/** The phase running, for the failure message. */
let phase = 'start'
const children = new Set<ChildProcess>()
/** A child process of this bench, killed if the bench fails (so no child is left holding its ports). */
function forkChild(name: string, args: string[], execArgv = process.execArgv): ChildProcess {
  const proc = fork(child(name), args, { execArgv })
  children.add(proc)
  proc.once('exit', () => children.delete(proc))
  return proc
}
// A failure (say a handshake that ends in ERR_HANDSHAKE_TIMEOUT) is reported with its phase and code,
// and the children are killed (SIGKILL: a child that hangs runs no handler); Node then prints the
// stack and exits 1.
process.on('uncaughtExceptionMonitor', (err) => {
  const code = (err as { code?: unknown }).code
  console.error(
    `\nbench:secure failed during ${phase}: ${typeof code === 'string' ? `${code}: ` : ''}${err.message}`,
  )
  for (const proc of children) proc.kill('SIGKILL')
})

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

async function message<T>(proc: ChildProcess, event: string): Promise<T> {
  for (;;) {
    const [m] = (await once(proc, 'message')) as [{ event?: string }]
    if (m.event === event) return m as T
  }
}

/** A connection to the receiver, ready for lines: the time from connect to ready (see the header). */
async function open(
  mode: Mode,
  peer: { plainPort: number; securePort: number; nodeId: string },
): Promise<{ con: LineSocket; ms: number }> {
  const start = performance.now()
  const socket = connect(mode === 'secure' ? peer.securePort : peer.plainPort, '127.0.0.1')
  await once(socket, 'connect')
  if (mode === 'secure') {
    const { stream } = await secureOutbound(socket, { identity, expectedNodeId: peer.nodeId })
    const ms = performance.now() - start
    return { con: new LineSocket(socket, { stream }), ms }
  }
  const con = new LineSocket(socket)
  con.sendLine(`PYP2P-CONNECT/1 ${'ab'.repeat(32)} ${identity.nodeId}`)
  await con.readLine()
  return { con, ms: performance.now() - start }
}

/** CPU time (user + system, µs) this process and the receiver have used so far. */
async function cpuNow(control: LineSocket): Promise<{ mine: number; peer: number }> {
  control.sendLine('CPU')
  const reply = await control.readLine()
  const { user, system } = process.cpuUsage()
  return { mine: user + system, peer: Number(reply.slice(4)) }
}

/** CPU (µs) both processes used since `start`: this one's and the receiver's, added. */
async function cpuSince(control: LineSocket, start: { mine: number; peer: number }): Promise<number> {
  const now = await cpuNow(control)
  return now.mine - start.mine + (now.peer - start.peer)
}

async function handshakes(mode: Mode, peer: Parameters<typeof open>[1], control: LineSocket) {
  const times: number[] = []
  const cpu = await cpuNow(control)
  for (let i = 0; i < HANDSHAKES; i++) {
    const { con, ms } = await open(mode, peer)
    times.push(ms)
    con.close()
    await con.closed
  }
  const cpuPerHandshake = (await cpuSince(control, cpu)) / HANDSHAKES
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), cpu: cpuPerHandshake }
}

/**
 * Lines/s from the first line sent until the receiver says it has read the last, and the CPU time
 * per line of both processes together (µs): what the lines cost, whatever else the machine runs.
 */
async function throughput(
  con: LineSocket,
  control: LineSocket,
  lineBytes: number,
  lines: number,
): Promise<{ rate: number; cpu: number }> {
  const text = 'x'.repeat(lineBytes - 2) // the line and its \r\n make lineBytes
  const cpu = await cpuNow(control)
  con.sendLine(`COUNT ${lines}`)
  const done = con.readLine()
  const start = performance.now()
  for (let sent = 0; sent < lines; ) {
    let ok = true
    for (let i = 0; i < BATCH && sent < lines; i++, sent++) ok = con.sendLine(text)
    if (!ok) await con.drain()
    else await new Promise((r) => setImmediate(r))
  }
  if ((await done) !== 'DONE') throw new Error('the receiver did not answer DONE')
  const rate = lines / ((performance.now() - start) / 1000)
  return { rate, cpu: (await cpuSince(control, cpu)) / lines }
}

interface PerEnd {
  rss: number
  heap: number
}

/** One child per mode and direction holds `IDLE` ends; this process holds the other ends. */
async function idleMemory(mode: Mode, direction: 'inbound' | 'outbound'): Promise<PerEnd> {
  const mine: LineSocket[] = []
  const wrap = async (socket: Socket, outbound: boolean, nodeId?: string): Promise<void> => {
    if (mode === 'plain') mine.push(new LineSocket(socket))
    else {
      const s = outbound
        ? await secureOutbound(socket, { identity, ...(nodeId ? { expectedNodeId: nodeId } : {}) })
        : await secureInbound(socket, { identity })
      mine.push(new LineSocket(socket, { stream: s.stream }))
    }
  }
  const server = createServer((socket) => void wrap(socket, false).catch(console.error))
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const proc = forkChild(
    'secure-idle.ts',
    [mode, direction, String(IDLE), String(port)],
    [...process.execArgv, '--expose-gc'],
  )
  const dialIn = async (childPort: number, nodeId: string, n: number): Promise<void> => {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next++ < n) {
        const socket = connect(childPort, '127.0.0.1')
        await once(socket, 'connect')
        await wrap(socket, true, nodeId)
      }
    }
    await Promise.all(Array.from({ length: 32 }, worker))
  }
  const listening = await message<{ port: number; nodeId: string }>(proc, 'listening')
  // Its inbound ends, when it asks (after its warm-up, below).
  const onDial = (m: { event?: string; count?: number }): void => {
    if (m.event === 'dial') void dialIn(listening.port, listening.nodeId, m.count as number)
  }
  proc.on('message', onDial)
  await dialIn(listening.port, listening.nodeId, 1) // its warm-up
  const { rss, heap } = await message<PerEnd>(proc, 'result')
  proc.off('message', onDial)
  for (const con of mine) con.close()
  server.close()
  proc.send({ cmd: 'exit' })
  await once(proc, 'exit')
  return { rss, heap }
}

const rows: Record<string, unknown>[] = []
// Other work on the machine moves every figure here: the load average is printed with them.
const load = (): string => loadavg()[0]?.toFixed(1) ?? '?'
const loadAtStart = load()
const row = (metric: string, plain: number, secure: number, goal?: string): void => {
  rows.push({ metric, plain, secure, ratio: secure / plain, ...(goal ? { goal } : {}) })
}

// Memory first, each mode in a fresh child.
const memory: Record<Mode, Record<'inbound' | 'outbound', PerEnd>> = {
  plain: { inbound: { rss: 0, heap: 0 }, outbound: { rss: 0, heap: 0 } },
  secure: { inbound: { rss: 0, heap: 0 }, outbound: { rss: 0, heap: 0 } },
}
for (const mode of MODES) {
  for (const direction of ['inbound', 'outbound'] as const) {
    phase = `idle memory (${mode}, ${direction})`
    memory[mode][direction] = await idleMemory(mode, direction)
  }
}

phase = 'handshakes'
const receiver = forkChild('secure-peer.ts', [])
const peer = await message<{ plainPort: number; securePort: number; nodeId: string }>(receiver, 'listening')
// A plain connection to the receiver that only asks for its CPU time (see secure-peer.ts).
const { con: control } = await open('plain', peer)
const hs = {
  plain: await handshakes('plain', peer, control),
  secure: await handshakes('secure', peer, control),
}
row('handshake p50 (ms)', hs.plain.p50, hs.secure.p50, 'secure < 5 ms')
row('handshake p99 (ms)', hs.plain.p99, hs.secure.p99)
row('handshake CPU, both ends (µs)', hs.plain.cpu, hs.secure.cpu)
/** Every run's lines/s and CPU µs per line (both ends), by line size, for the results file. */
const throughputRuns: Record<string, Record<Mode, number[]>> = {}
const cpuRuns: Record<string, Record<Mode, number[]>> = {}
for (const [lineBytes, lines] of SIZES) {
  phase = `throughput at ${lineBytes} B`
  const results: Record<Mode, number[]> = { plain: [], secure: [] }
  const cpus: Record<Mode, number[]> = { plain: [], secure: [] }
  throughputRuns[`${lineBytes}`] = results
  cpuRuns[`${lineBytes}`] = cpus
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order each run so drift in machine load is shared.
    for (const mode of run % 2 === 0 ? MODES : [...MODES].reverse()) {
      const { con } = await open(mode, peer)
      const { rate, cpu } = await throughput(con, control, lineBytes, lines)
      results[mode].push(rate)
      cpus[mode].push(cpu)
      con.close()
      await con.closed
    }
  }
  const goal = lineBytes === 4096 ? '>= 0.5' : lineBytes === 100 ? '>= 0.7' : undefined
  // The ratio is the median of each run's back-to-back pair (secure_i / plain_i), so a change in load
  // between runs hits both sides of a ratio; the lines/s are the medians over the runs.
  const pairs = results.secure.map((s, i) => s / (results.plain[i] as number))
  rows.push({
    metric: `lines/s at ${lineBytes} B`,
    plain: median(results.plain),
    secure: median(results.secure),
    ratio: median(pairs),
    ...(goal ? { goal } : {}),
  })
  // CPU per line, both ends: less moved by other load than lines/s. Its ratio is plain / secure, the
  // lines/s ratio two CPU-bound ends would reach (median of the back-to-back pairs, as above).
  const cpuPairs = cpus.plain.map((p, i) => p / (cpus.secure[i] as number))
  rows.push({
    metric: `CPU per line at ${lineBytes} B, both ends (µs)`,
    plain: median(cpus.plain),
    secure: median(cpus.secure),
    ratio: median(cpuPairs),
  })
}
control.close()
receiver.disconnect()
await once(receiver, 'exit')

for (const dir of ['inbound', 'outbound'] as const) {
  row(`RSS per idle ${dir} end (B)`, memory.plain[dir].rss, memory.secure[dir].rss)
  row(`heap+external per idle ${dir} end (B)`, memory.plain[dir].heap, memory.secure[dir].heap)
}

phase = 'net first line'
const first = {
  plain: await netFirstLine('plain', Number(values.firstlines)),
  secure: await netFirstLine('secure', Number(values.firstlines)),
}
row('net loopback: connect to first line p50 (ms)', first.plain.p50, first.secure.p50)
row('net loopback: connect to first line p99 (ms)', first.plain.p99, first.secure.p99)

printTable(
  `secure vs plain, loopback, two processes (${HANDSHAKES} handshakes, median of ${RUNS} runs, ${IDLE} idle ends each way; load average ${loadAtStart} at start, ${load()} now)`,
  rows,
)
let punch: Awaited<ReturnType<typeof punchFirstLine>> | undefined
const labRows: Record<string, unknown>[] = []
if (values.lab) {
  phase = 'lab punch'
  punch = await punchFirstLine(Number(values.punches))
  for (const [what, p] of [
    ['p50', 'p50'],
    ['p99', 'p99'],
  ] as const) {
    const plain = punch.plain.ok > 0 ? punch.plain[p] : undefined
    const secure = punch.secure.ok > 0 ? punch.secure[p] : undefined
    labRows.push({
      metric: `lab punch: connect to first line ${what} (ms)`,
      plain,
      secure,
      ratio: plain !== undefined && secure !== undefined ? secure / plain : undefined,
      ...(what === 'p50' ? { goal: '< 100 ms' } : {}),
    })
  }
  for (const mode of MODES) {
    const p = punch[mode]
    labRows.push({
      metric: `lab punch ${mode}: punched / trials`,
      [mode]: `${p.ok}/${p.trials}`,
      ...(p.failures.length > 0 ? { goal: `failures: ${[...new Set(p.failures)].join('; ')}` } : {}),
    })
  }
  printTable(
    'secure vs plain, time to first line through a hole punch in the NAT lab (Net nodes, cone/drop routers)',
    labRows,
  )
}
const file = await writeResults('secure', {
  date: new Date().toISOString(),
  loadAverage: { start: loadAtStart, end: load() },
  rows: [...rows, ...labRows],
  memory,
  throughputRuns,
  cpuRuns,
  punch,
})
console.log(`\nwrote ${file}`)
