/**
 * The relay under test for bench/src/relay.ts, in its own process so its memory is its own: a
 * standalone @pyp2p/relay `CircuitRelay` on loopback with limits raised (one client address holds
 * every circuit). Prints `{"port":n}`; on the stdin line `stats` prints `{"rss","heapUsed",...stats}`
 * after a GC (run with --expose-gc).
 */
import { createInterface } from 'node:readline'
import { CircuitRelay, RelayListener } from '@pyp2p/relay'

const BIG = 1_000_000
const relay = new CircuitRelay({
  maxCircuits: BIG,
  maxCircuitsPerIp: BIG,
  maxCircuitsPerTarget: BIG,
  maxReservations: BIG,
  maxReservationsPerIp: BIG,
  maxCircuitBytes: 2 ** 40,
})
const listener = new RelayListener(relay)
const { port } = await listener.listen({ host: '127.0.0.1', port: 0 })
console.log(JSON.stringify({ port }))
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') {
    ;(globalThis as { gc?: () => void }).gc?.()
    const m = process.memoryUsage()
    console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, ...relay.stats }))
  }
  if (line === 'quit') break
}
relay.close()
await listener.close()
