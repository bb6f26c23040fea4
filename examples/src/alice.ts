/**
 * Alice, from the original README: a passive node that lists itself on the bootstrap server and
 * prints every line its peers send. Run a server first (`npm run server -- --host 127.0.0.1` in this repository),
 * then `pnpm --filter @pyp2p/examples alice` (options: --server host:port, --bind, --port, --once).
 */
import { Net, stopOnSignals } from '@pyp2p/net'
import { exampleArgs } from './args.js'

const args = exampleArgs(44444)
const alice = new Net({
  passiveBind: args.bind,
  passivePort: args.port,
  netType: 'direct',
  servers: [args.server],
})
stopOnSignals(alice)
await alice.start()
await alice.bootstrap()
await alice.advertise()
console.log(`Alice is a ${alice.nodeType} node listening on ${args.bind}:${alice.port}`)

// The original's event loop: for con in net: for reply in con: print(reply)
for (;;) {
  for (const con of alice) {
    for (const reply of con) {
      console.log(reply)
      if (args.once) {
        await alice.stop()
        process.exit(0)
      }
    }
  }
  await alice.synchronize({ timeout: 1000 })
}
