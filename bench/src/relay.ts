/**
 * The circuit relay (@pyp2p/relay, issue 14) on loopback, the relay in its own process
 * (relay-child.ts):
 *
 * 1. circuits one relay holds at once, and the relay's RSS and heap per circuit (after a GC);
 * 2. lines/s from one node to another through a circuit vs over a direct TCP connection, both secure
 *    (@pyp2p/unl's connector: Noise end to end, the relay splices ciphertext), at 100 B and 4 KiB;
 * 3. time from `connect()` to the first line from the peer, through a circuit and direct (p50/p95).
 *
 *   npm run bench:relay -- [--circuits 2000] [--lines 200000] [--trials 30]
 *
 * Loopback has no network latency, so (3) is the protocol's cost: TCP connects, the relay's round
 * trips (CONNECT, INCOMING, ACCEPT, OK) and the handshake. Writes bench/results/relay.json.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { CircuitReservation, dialCircuit, type IncomingCircuit } from '@pyp2p/relay'
import { CircuitRelayer, type IncomingConnection, UNL, UnlConnector, withRelay } from '@pyp2p/unl'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    circuits: { type: 'string', default: '2000' },
    lines: { type: 'string', default: '200000' },
    trials: { type: 'string', default: '30' },
  },
})
const CIRCUITS = Number(values.circuits)
const LINES = Number(values.lines)
const TRIALS = Number(values.trials)

// --- the relay process ---
const child = spawn(
  process.execPath,
  [
    '--expose-gc',
    '--import',
    'tsx',
    '--conditions=@pyp2p/source',
    new URL('./relay-child.ts', import.meta.url).pathname,
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
)
const out = createInterface({ input: child.stdout })
const replies = out[Symbol.asyncIterator]()
const next = async (): Promise<Record<string, number>> => JSON.parse((await replies.next()).value as string)
const port = Number((await next()).port)
const stats = async (): Promise<Record<string, number>> => {
  child.stdin.write('stats\n')
  return next()
}
const relayAt = { host: '127.0.0.1', port }

// --- 1. circuits held ---
const before = await stats()
const holder = await CircuitReservation.open({ ...relayAt, identity: NodeIdentity.generate() })
const held: IncomingCircuit[] = []
holder.on('incoming', (c) => held.push(c))
const dialled = []
for (let i = 0; i < CIRCUITS; i += 100) {
  const batch = Array.from({ length: Math.min(100, CIRCUITS - i) }, () =>
    dialCircuit({ ...relayAt, target: holder.nodeId, nodeId: '0'.repeat(40) }),
  )
  dialled.push(...(await Promise.all(batch)))
}
const after = await stats()
const perCircuit = {
  circuits: after.open,
  rssPerCircuitBytes: Math.round((after.rss! - before.rss!) / CIRCUITS),
  heapPerCircuitBytes: Math.round((after.heapUsed! - before.heapUsed!) / CIRCUITS),
  relayRssMiB: Math.round((after.rss! / 2 ** 20) * 10) / 10,
}
for (const c of dialled) c.socket.destroy()
for (const c of held) c.socket.destroy()
holder.close()
printTable('circuit relay: circuits held at once', [perCircuit])

// --- 2 and 3: two secure nodes, direct and through the relay ---
interface Node {
  connector: UnlConnector
  unl: UNL
  server: Server
}
async function node(relayed: boolean): Promise<Node> {
  const identity = NodeIdentity.generate()
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const relayer = new CircuitRelayer({ relays: [relayAt] })
  let unl = new UNL({
    nodeId: identity.nodeId,
    nodeType: relayed ? 'active' : 'passive',
    natType: 'unknown',
    forwarding: 'none',
    port: relayed ? 0 : (server.address() as { port: number }).port,
    // Relayed: as a node elsewhere sees it (on loopback everyone shares one WAN address).
    wanAddress: relayed ? '11.0.0.99' : '127.0.0.1',
    lanAddress: relayed ? '' : '127.0.0.1',
  })
  if (relayed) {
    const r = await CircuitReservation.open({ ...relayAt, identity })
    relayer.setReservation(r)
    unl = withRelay(unl, relayAt)
  }
  const connector = new UnlConnector({ unl, identity, relayer, heartbeatInterval: 0 })
  connector.acceptOn(server)
  return { connector, unl, server }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

async function pair(a: Node, b: Node): Promise<{ out: LineSocket; in: LineSocket; method: string }> {
  const got = once(b.connector, 'connection') as Promise<[IncomingConnection]>
  const r = await a.connector.connectWithReport(b.unl)
  const [incoming] = await got
  return { out: r.connection, in: incoming.connection, method: r.method }
}

async function throughput(a: Node, b: Node, size: number): Promise<{ method: string; linesPerSec: number }> {
  const p = await pair(a, b)
  const line = 'x'.repeat(size)
  let got = 0
  const done = new Promise<void>((resolve) =>
    p.in.on('line', () => {
      if (++got === LINES) resolve()
    }),
  )
  const t0 = performance.now()
  for (let i = 0; i < LINES; i++) if (!p.out.sendLine(line)) await p.out.drain()
  await done
  const linesPerSec = LINES / ((performance.now() - t0) / 1000)
  p.out.close()
  p.in.close()
  return { method: p.method, linesPerSec }
}

async function firstLine(a: Node, b: Node): Promise<{ method: string; p50: number; p95: number }> {
  const times: number[] = []
  let method = ''
  const greet = (c: IncomingConnection): void => {
    c.connection.sendLine('hello')
  }
  b.connector.on('connection', greet)
  for (let i = 0; i < TRIALS; i++) {
    const t0 = performance.now()
    const r = await a.connector.connectWithReport(b.unl)
    await r.connection.readLine()
    times.push(performance.now() - t0)
    method = r.method
    r.connection.close()
  }
  b.connector.off('connection', greet)
  times.sort((x, y) => x - y)
  return { method, p50: percentile(times, 50), p95: percentile(times, 95) }
}

const direct = [await node(false), await node(false)] as const
const relayed = [await node(true), await node(true)] as const
// A warm-up of both paths (JIT, TLS-free Noise code paths): not measured.
await throughput(direct[0], direct[1], 100)
await throughput(relayed[0], relayed[1], 100)
const rows = []
for (const size of [100, 4096]) {
  const d = await throughput(direct[0], direct[1], size)
  const r = await throughput(relayed[0], relayed[1], size)
  rows.push({
    lineBytes: size,
    directLinesPerSec: Math.round(d.linesPerSec),
    relayLinesPerSec: Math.round(r.linesPerSec),
    ratio: Math.round((r.linesPerSec / d.linesPerSec) * 100) / 100,
    methods: `${d.method}/${r.method}`,
  })
}
printTable(`lines/s, one secure connection, ${LINES} lines (relay/direct: goal >= 0.5)`, rows)
const fd = await firstLine(direct[0], direct[1])
const fr = await firstLine(relayed[0], relayed[1])
const ttfl = [
  { method: fd.method, p50Ms: fd.p50, p95Ms: fd.p95 },
  { method: fr.method, p50Ms: fr.p50, p95Ms: fr.p95 },
]
printTable(`time from connect() to the first line, ${TRIALS} trials (relay p50 goal < 50 ms)`, ttfl)

for (const n of [...direct, ...relayed]) {
  n.connector.close()
  n.server.close()
}
const file = await writeResults('relay', {
  date: new Date().toISOString(),
  circuits: CIRCUITS,
  lines: LINES,
  trials: TRIALS,
  held: perCircuit,
  throughput: rows,
  firstLine: ttfl,
})
console.log(`\nwritten to ${file}`)
child.stdin.end('quit\n')
// The nodes' reservations keep their (unref'd) sockets open: end here.
process.exit(0)
