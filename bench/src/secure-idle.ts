/**
 * Memory per idle connection end, for bench/src/secure.ts: run as a child process with `--expose-gc`,
 * one process per mode and direction, so neither mode's garbage or pools are counted in the other's
 * figures and each direction is measured first in its process (the memory the handshakes' garbage
 * leaves behind, V8 heap pages and malloc arenas kept after a GC, would otherwise all land on the
 * direction measured first).
 *
 *   secure-idle.ts <plain|secure> <inbound|outbound> <count> <parent-port>
 *
 * After a warm-up connection each way (code and pools allocated once are not per connection), it
 * measures RSS and heap (V8 heap used + external, after three forced GCs), then holds `count` ends of
 * its direction (inbound: accepted from the parent, which dials its listener; outbound: dialled to
 * `parent-port`) and measures again. Each end is a LineSocket over the socket (plain) or over the
 * SecureStream after the handshake (secure), idle: nothing is sent after the handshake.
 * IPC to the parent: `{ event: 'listening', port, nodeId }`, `{ event: 'dial', count }` when it wants
 * `count` inbound ends, then `{ event: 'result', rss, heap }` in bytes per end; it then waits for
 * `{ cmd: 'exit' }` (so the parent can close its ends first).
 */
import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { secureInbound, secureOutbound } from '@pyp2p/secure'

const [mode, direction, countArg, parentPortArg] = process.argv.slice(2)
const COUNT = Number(countArg)
const PARENT_PORT = Number(parentPortArg)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('secure-idle.ts needs node --expose-gc')
if (mode !== 'plain' && mode !== 'secure') throw new Error(`mode must be plain or secure, not ${mode}`)
if (direction !== 'inbound' && direction !== 'outbound')
  throw new Error(`direction must be inbound or outbound, not ${direction}`)
const CONCURRENCY = 32

const identity = NodeIdentity.generate()
const held: LineSocket[] = []
// Gone with the parent (a bench that failed): not left holding its listener and connections.
process.on('disconnect', () => process.exit(0))

/** After three forced GCs, each after a turn of the event loop (some external memory is freed only then). */
async function measure(): Promise<{ rss: number; heap: number }> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc?.()
  }
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
const before = await measure()
if (direction === 'inbound') await dialIn(COUNT)
else await dialOut(COUNT)
const after = await measure()
process.send?.({
  event: 'result',
  rss: (after.rss - before.rss) / COUNT,
  heap: (after.heap - before.heap) / COUNT,
})
process.on('message', (m: { cmd?: string }) => {
  if (m.cmd !== 'exit') return
  for (const con of held) con.close()
  server.close()
  process.exit(0)
})
