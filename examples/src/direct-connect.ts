/**
 * Direct connect, from the original README: two nodes in one process, and Alice connects to Bob by
 * his UNL (`alice.unl.connect(bob.unl.value, { success, failure })`). Run a server first, then
 * `pnpm --filter @pyp2p/examples direct-connect` (option: --server host:port).
 */
import type { LineSocket } from '@pyp2p/framing'
import { Net } from '@pyp2p/net'
import { exampleArgs } from './args.js'

const args = exampleArgs(0)
const options = { passiveBind: args.bind, passivePort: 0, netType: 'direct', servers: [args.server] } as const
const alice = new Net(options)
const bob = new Net(options)
await alice.start()
await bob.start()

const events = {
  success: (con: LineSocket, info: { method: string }) => {
    console.log(`Alice successfully connected to Bob (method: ${info.method}).`)
    con.sendLine('hello Bob, this is Alice')
  },
  failure: (err: Error) => {
    console.error(`Alice could not connect to Bob: ${err.message}`)
    process.exitCode = 1
  },
}
alice.unl.connect(bob.unl.value, events)

const deadline = AbortSignal.timeout(30_000)
let done = false
while (!done && !deadline.aborted && process.exitCode === undefined) {
  for (const con of alice) for (const reply of con) console.log(`Alice got: ${reply}`)
  for (const con of bob) {
    for (const reply of con) {
      console.log(`Bob got: ${reply}`)
      done = true
    }
  }
  if (!done) await bob.synchronize({ timeout: 1000 })
}
await Promise.all([alice.stop(), bob.stop()])
if (!done && process.exitCode === undefined) {
  console.error('no line arrived within 30 s')
  process.exitCode = 1
}
