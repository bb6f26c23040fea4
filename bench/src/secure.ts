/**
 * Secure connections (@pyp2p/secure) against plain lines on loopback, in one process (both ends share
 * this event loop, so the secure side pays for encryption and decryption on the same core):
 *
 * - handshake: TCP connect + the Noise XX handshake (secure) vs TCP connect + a hello line and its
 *   reply (plain), p50 and p99;
 * - lines/s at 16 B, 100 B and 4 KiB: @pyp2p/framing's LineSocket over a SecureStream vs over the raw
 *   socket (LineSocket corks the lines of one tick, so they leave as one encrypted frame);
 * - memory per idle connection end (heap + external after GC, measured first), both wrapped in LineSocket;
 * - time to first line through @pyp2p/net: `net.unl.connect()` between two started Nets on loopback
 *   (`secure: true`, the default, vs `secure: false`) until the peer has read the first line, p50/p99.
 *   (The same through a lab punch is not measured here: bench:matrix runs the lab.)
 *
 *   pnpm --filter @pyp2p/bench run secure [--handshakes 300] [--runs 3] [--idle 200] [--firstlines 200]
 *
 * Writes bench/results/secure.json.
 */
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { Net } from '@pyp2p/net'
import { secureInbound, secureOutbound } from '@pyp2p/secure'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    handshakes: { type: 'string', default: '300' },
    runs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '300' },
    firstlines: { type: 'string', default: '200' },
  },
})
const FIRST_LINES = Number(values.firstlines)
const HANDSHAKES = Number(values.handshakes)
const RUNS = Number(values.runs)
const IDLE = Number(values.idle)
// Lines per throughput run for each size: about 4-32 MiB each, a second or so per run here.
const SIZES: [number, number][] = [
  [16, 400_000],
  [100, 200_000],
  [4096, 8_000],
]
const BATCH = 256 // lines sent per tick before yielding

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

type Mode = 'plain' | 'secure'
const alice = NodeIdentity.generate()
const bob = NodeIdentity.generate()

interface Pair {
  left: LineSocket
  right: LineSocket
}

async function listening(): Promise<{
  server: Server
  port: number
  accepted: Socket[]
  wake: () => Promise<Socket>
}> {
  const server = createServer()
  const accepted: Socket[] = []
  const waiters: ((s: Socket) => void)[] = []
  server.on('connection', (s) => {
    const w = waiters.shift()
    if (w) w(s)
    else accepted.push(s)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const wake = (): Promise<Socket> => {
    const s = accepted.shift()
    return s ? Promise.resolve(s) : new Promise((r) => waiters.push(r))
  }
  return { server, port, accepted, wake }
}

/** One connection, from connect to ready: returns the pair and the client's time to ready. */
async function open(
  mode: Mode,
  port: number,
  wake: () => Promise<Socket>,
): Promise<{ pair: Pair; ms: number }> {
  const start = performance.now()
  const client = connect(port, '127.0.0.1')
  await once(client, 'connect')
  const inbound = await wake()
  if (mode === 'secure') {
    const [a, b] = await Promise.all([
      secureOutbound(client, { identity: alice, expectedNodeId: bob.nodeId }),
      secureInbound(inbound, { identity: bob }),
    ])
    const ms = performance.now() - start
    return {
      pair: {
        left: new LineSocket(a.stream as unknown as Socket),
        right: new LineSocket(b.stream as unknown as Socket),
      },
      ms,
    }
  }
  const left = new LineSocket(client)
  const right = new LineSocket(inbound)
  left.sendLine(`PYP2P-CONNECT/1 ${'ab'.repeat(32)} ${alice.nodeId}`)
  await right.readLine()
  right.sendLine('ACCEPT')
  await left.readLine()
  return { pair: { left, right }, ms: performance.now() - start }
}

async function closePair(pair: Pair): Promise<void> {
  pair.left.close()
  pair.right.close()
  await Promise.all([pair.left.closed, pair.right.closed])
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

async function handshakes(
  mode: Mode,
  port: number,
  wake: () => Promise<Socket>,
): Promise<{ p50: number; p99: number }> {
  const times: number[] = []
  for (let i = 0; i < HANDSHAKES; i++) {
    const { pair, ms } = await open(mode, port, wake)
    times.push(ms)
    await closePair(pair)
  }
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) }
}

async function throughput(pair: Pair, lineBytes: number, lines: number): Promise<number> {
  const text = 'x'.repeat(lineBytes - 2) // the line and its \r\n make lineBytes
  let received = 0
  const done = new Promise<void>((resolve) => {
    const onLine = (): void => {
      if (++received === lines) {
        pair.right.off('line', onLine)
        resolve()
      }
    }
    pair.right.on('line', onLine)
  })
  const start = performance.now()
  for (let sent = 0; sent < lines; ) {
    let ok = true
    for (let i = 0; i < BATCH && sent < lines; i++, sent++) ok = pair.left.sendLine(text)
    if (!ok) await pair.left.drain()
    else await new Promise((r) => setImmediate(r))
  }
  await done
  return lines / ((performance.now() - start) / 1000)
}

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN

function idleBytes(): number {
  for (let i = 0; i < 3; i++) gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}

async function memoryPerEnd(mode: Mode, port: number, wake: () => Promise<Socket>): Promise<number> {
  const before = idleBytes()
  const pairs: Pair[] = []
  for (let i = 0; i < IDLE; i++) pairs.push((await open(mode, port, wake)).pair)
  const after = idleBytes()
  for (const pair of pairs) await closePair(pair)
  return (after - before) / (2 * IDLE)
}

/** `net.unl.connect()` to a started Net until it has read the first line, ms: p50 and p99. */
async function netFirstLine(mode: Mode): Promise<{ p50: number; p99: number }> {
  const options = {
    netType: 'direct',
    nodeType: 'passive',
    passiveBind: '127.0.0.1',
    passivePort: 0,
    enableForwarding: false,
    secure: mode === 'secure',
    maxInbound: 100_000,
    maxOutbound: 100_000,
  } as const
  const a = new Net(options)
  const b = new Net(options)
  await a.start()
  await b.start()
  let arrived: ((line: string) => void) | undefined
  a.on('connection', (con) => {
    void con.readLine().then((line) => arrived?.(line))
  })
  const times: number[] = []
  for (let i = 0; i < FIRST_LINES; i++) {
    const got = new Promise<string>((resolve) => {
      arrived = resolve
    })
    const start = performance.now()
    const con = await b.unl.connect(a.unl.value)
    con.sendLine('first')
    await got
    times.push(performance.now() - start)
    con.close()
    await con.closed
  }
  await Promise.all([a.stop(), b.stop()])
  times.sort((x, y) => x - y)
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) }
}

const { server, port, wake } = await listening()
const rows: Record<string, unknown>[] = []
// Memory first, before the throughput runs leave garbage and buffers behind; a warm-up round of each
// mode first so code and pools allocated once are not counted.
const memory: Record<Mode, number[]> = { plain: [], secure: [] }
for (let round = 0; round < 4; round++) {
  for (const mode of ['plain', 'secure'] as Mode[]) memory[mode].push(await memoryPerEnd(mode, port, wake))
}
// Round 0 is the warm-up; the median of the others.
const memPlain = median(memory.plain.slice(1))
const memSecure = median(memory.secure.slice(1))
const hs: Record<Mode, { p50: number; p99: number }> = {
  plain: await handshakes('plain', port, wake),
  secure: await handshakes('secure', port, wake),
}
rows.push({
  metric: 'handshake p50 (ms)',
  plain: hs.plain.p50,
  secure: hs.secure.p50,
  ratio: hs.secure.p50 / hs.plain.p50,
  goal: 'secure < 5 ms',
})
rows.push({
  metric: 'handshake p99 (ms)',
  plain: hs.plain.p99,
  secure: hs.secure.p99,
  ratio: hs.secure.p99 / hs.plain.p99,
})
const first: Record<Mode, { p50: number; p99: number }> = {
  plain: await netFirstLine('plain'),
  secure: await netFirstLine('secure'),
}
rows.push({
  metric: 'net: connect to first line p50 (ms)',
  plain: first.plain.p50,
  secure: first.secure.p50,
  ratio: first.secure.p50 / first.plain.p50,
})
rows.push({
  metric: 'net: connect to first line p99 (ms)',
  plain: first.plain.p99,
  secure: first.secure.p99,
  ratio: first.secure.p99 / first.plain.p99,
})
for (const [lineBytes, lines] of SIZES) {
  const results: Record<Mode, number[]> = { plain: [], secure: [] }
  for (let run = 0; run < RUNS; run++) {
    // Alternate the order each run so drift in machine load is shared.
    for (const mode of (run % 2 === 0 ? ['plain', 'secure'] : ['secure', 'plain']) as Mode[]) {
      const { pair } = await open(mode, port, wake)
      results[mode].push(await throughput(pair, lineBytes, lines))
      await closePair(pair)
    }
  }
  const plain = median(results.plain)
  const secure = median(results.secure)
  const goal = lineBytes === 4096 ? '>= 0.5' : lineBytes === 100 ? '>= 0.7' : ''
  rows.push({ metric: `lines/s at ${lineBytes} B`, plain, secure, ratio: secure / plain, goal })
}
rows.push({
  metric: 'bytes per idle connection end',
  plain: memPlain,
  secure: memSecure,
  ratio: memSecure / memPlain,
})
server.close()

printTable(`secure vs plain, loopback, one process (${HANDSHAKES} handshakes, median of ${RUNS} runs)`, rows)
const file = await writeResults('secure', rows)
console.log(`\nwrote ${file}`)
