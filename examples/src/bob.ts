/**
 * Bob, from the original README: finds Alice through the bootstrap server and sends "test" to every
 * connection once a second, printing what comes back. Start Alice first, then
 * `pnpm --filter @pyp2p/examples bob` (options: --server host:port, --bind, --port, --once).
 */
import { Net, stopOnSignals } from '@pyp2p/net'
import { exampleArgs } from './args.js'

const args = exampleArgs(44445)
const bob = new Net({
  passiveBind: args.bind,
  passivePort: args.port,
  netType: 'direct',
  servers: [args.server],
})
stopOnSignals(bob)
await bob.start()
await bob.bootstrap()
await bob.advertise()
console.log(`Bob is a ${bob.nodeType} node listening on ${args.bind}:${bob.port}`)

let sent = 0
for (;;) {
  // Nobody yet (Alice not advertised when we bootstrapped)? Ask the server again.
  if (bob.connections().length === 0) {
    if (args.once && sent > 0) break // with --once: stop when our peers have gone
    await bob.bootstrap()
  }
  for (const con of bob) {
    con.sendLine('test')
    sent++
    for (const reply of con) console.log(reply)
  }
  await bob.synchronize({ timeout: 1000 })
}
console.log(`Bob sent ${sent} line(s); his peers have gone`)
await bob.stop()
