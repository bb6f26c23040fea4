/**
 * Memory per idle connection end, for bench/src/secure.ts: run as a child process with `--expose-gc`,
 * one process per mode so neither mode's garbage or pools are counted in the other's figures.
 *
 *   secure-idle.ts <plain|secure> <count> <parent-port>
 *
 * After a warm-up connection each way (code and pools allocated once are not per connection), it
 * opens a first batch of `count` ends each way and closes it again: the memory that batch leaves
 * behind (V8 heap pages and malloc arenas grown by the handshakes' garbage, kept after a GC) is
 * reported on its own as `firstBatch`, not counted per idle end (otherwise the direction measured
 * first carries all of it, several times a secure end's own RSS). It then measures RSS and heap (V8
 * heap used + external, after three forced GCs), holds `count` inbound ends (accepted from the parent,
 * which dials its listener) and measures again, then `count` outbound ends (dialled to `parent-port`)
 * and measures again. Each end is a LineSocket over the socket (plain) or over the SecureStream after
 * the handshake (secure), idle: nothing is sent after the handshake.
 * IPC to the parent: `{ event: 'listening', port, nodeId }`, `{ event: 'dial', count }` each time it
 * wants `count` inbound ends, then `{ event: 'result', firstBatch, inbound, outbound }` with bytes per
 * end; it then waits for `{ cmd: 'exit' }` (so the parent can close its ends first).
 */
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { secureInbound, secureOutbound } from '@pyp2p/secure'

const [mode, countArg, parentPortArg] = process.argv.slice(2)
const COUNT = Number(countArg)
const PARENT_PORT = Number(parentPortArg)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('secure-idle.ts needs node --expose-gc')
if (mode !== 'plain' && mode !== 'secure') throw new Error(`mode must be plain or secure, not ${mode}`)
const CONCURRENCY = 32

const identity = NodeIdentity.generate()
const held: LineSocket[] = []
// Gone with the parent (a bench that failed): not left holding its listener and connections.
process.on('disconnect', () => process.exit(0))

function measure(): { rss: number; heap: number } {
  for (let i = 0; i < 3; i++) gc?.()
  const m = process.memoryUsage()
  return { rss: m.rss, heap: m.heapUsed + m.external }
}

async function wrap(socket: Socket, outbound: boolean): Promise<LineSocket> {
  if (mode === 'plain') return new LineSocket(socket)
  const session = outbound
    ? await secureOutbound(socket, { identity })
    : await secureInbound(socket, { identity })
  return new LineSocket(socket, { stream: session.stream })
}

let inboundWanted = 1 // the warm-up connection first
let inboundReady: () => void = () => {}
const server = createServer((socket) => {
  wrap(socket, false).then((con) => {
    held.push(con)
    if (--inboundWanted === 0) inboundReady()
  }, console.error)
})
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
await once(server, 'listening')
const inbound = (n: number): Promise<void> =>
  new Promise((resolve) => {
    inboundWanted = n
    inboundReady = resolve
  })

async function dialOut(n: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < n) {
      const socket = connect(PARENT_PORT, '127.0.0.1')
      await once(socket, 'connect')
      held.push(await wrap(socket, true))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

/** `n` inbound ends, dialled by the parent. */
async function dialIn(n: number): Promise<void> {
  const done = inbound(n)
  process.send?.({ event: 'dial', count: n })
  await done
}

const warm = inbound(1)
process.send?.({ event: 'listening', port: (server.address() as AddressInfo).port, nodeId: identity.nodeId })
await warm
await dialOut(1)
const start = measure()
await dialIn(COUNT)
await dialOut(COUNT)
const batch = held.splice(2)
for (const con of batch) con.close()
await Promise.all(batch.map((con) => con.closed))
const before = measure()
await dialIn(COUNT)
const afterInbound = measure()
await dialOut(COUNT)
const afterOutbound = measure()
const per = (a: { rss: number; heap: number }, b: { rss: number; heap: number }) => ({
  rss: (b.rss - a.rss) / COUNT,
  heap: (b.heap - a.heap) / COUNT,
})
process.send?.({
  event: 'result',
  firstBatch: { rss: (before.rss - start.rss) / (2 * COUNT), heap: (before.heap - start.heap) / (2 * COUNT) },
  inbound: per(before, afterInbound),
  outbound: per(afterInbound, afterOutbound),
})
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd !== 'exit') return
  for (const con of held) con.close()
  server.close()
  process.exit(0)
})
