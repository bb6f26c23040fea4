/**
 * `npm start`: a bootstrap server and two nodes on 127.0.0.1. Alice lists herself on the server, Bob
 * asks the server for nodes and connects to her, they exchange a line each way, and everything stops.
 * Bounded by a timeout: exits 0 on success, 1 with the reason otherwise. Nothing leaves this machine.
 */
import { once } from 'node:events'
import { performance } from 'node:perf_hooks'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { Net, type PeerInfo } from '@pyp2p/net'

const TIMEOUT_MS = 20_000
const HOST = '127.0.0.1'

const say = (what: string, text: string): void => console.log(`  ${what.padEnd(18)} ${text}`)
const signal = AbortSignal.timeout(TIMEOUT_MS)
const server = new BootstrapServer({ host: HOST, port: 0 })
const nodes: Net[] = []

// Whatever happens, never hang: fail loudly once the time is up.
const watchdog = setTimeout(() => {
  console.error(`demo failed: it did not finish within ${TIMEOUT_MS / 1000} s`)
  process.exit(1)
}, TIMEOUT_MS + 2_000)

async function main(): Promise<void> {
  console.log(`pyp2p demo: a bootstrap server and two nodes, all on ${HOST}\n`)
  const { port } = await server.listen({ signal })
  say('bootstrap server', `listening on ${HOST}:${port}`)
  const options = { passiveBind: HOST, passivePort: 0, servers: [`${HOST}:${port}`] }
  const alice = new Net(options)
  const bob = new Net(options)
  nodes.push(alice, bob)

  const a = await alice.start({ signal })
  await alice.advertise({ signal })
  say(
    'alice',
    `${a.nodeType} node on port ${a.port} (${a.reachability}: the server saw her at ${a.wanAddress}), listed`,
  )
  const b = await bob.start({ signal })
  say('bob', `${b.nodeType} node on port ${b.port}`)

  const aliceSees = once(alice, 'connection', { signal }) as Promise<[unknown, PeerInfo]>
  const t0 = performance.now()
  const [peer] = await bob.bootstrap({ signal })
  if (peer === undefined) throw new Error('the server listed no node for Bob to connect to')
  const [toAlice] = bob.connections()
  const [, fromBob] = await aliceSees
  const [fromBobCon] = alice.connections()
  say(
    'bob -> alice',
    `connected in ${(performance.now() - t0).toFixed(1)} ms; method: ${peer.method} (Bob dialled the address the server listed, ${peer.host}:${peer.port}, directly: Alice is passive)`,
  )
  if (fromBob.nodeId !== bob.nodeId) throw new Error('Alice saw a different node id than Bob has')

  toAlice!.sendLine('hello Alice, this is Bob')
  say('alice received', JSON.stringify(await fromBobCon!.readLine({ signal })))
  fromBobCon!.sendLine('hi Bob, Alice here')
  say('bob received', JSON.stringify(await toAlice!.readLine({ signal })))

  await Promise.all([alice.stop(), bob.stop()])
  const left = server.stats()
  if (left.nodes !== 0) throw new Error(`the server still lists ${left.nodes} node(s) after both stopped`)
  await server.close()
  console.log('\nok: both nodes stopped and left the server; nothing is left running')
}

main().then(
  () => {
    clearTimeout(watchdog)
  },
  async (err: unknown) => {
    console.error(`\ndemo failed: ${(err as Error).message}`)
    await Promise.allSettled([...nodes.map((n) => n.stop()), server.close()])
    clearTimeout(watchdog)
    process.exitCode = 1
  },
)
