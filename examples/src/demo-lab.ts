/**
 * `npm run demo:lab` (root only): the `npm start` demo with the nodes behind two real NAT routers.
 * Builds a NAT lab (`@pyp2p/netlab`: network namespaces, nftables port-preserving NATs, one that drops
 * unsolicited SYNs and one that answers them with RST), runs the bootstrap server on the lab's
 * "internet", Alice and Bob behind the routers; Bob connects to Alice's UNL: a TCP hole punch.
 * Everything stays inside the lab's namespaces; the lab is removed at the end, whatever happens.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createLab, labReadiness } from '@pyp2p/netlab'

const TIMEOUT_MS = 60_000
const say = (what: string, text: string): void => console.log(`  ${what.padEnd(18)} ${text}`)
const json = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>

async function main(): Promise<void> {
  const ready = await labReadiness()
  if (!ready.ok) throw new Error(`the lab needs root and the Debian packages in .ci/run: ${ready.reason}`)
  const signal = AbortSignal.timeout(TIMEOUT_MS)
  console.log(
    'pyp2p lab demo: Alice and Bob behind two NAT routers, a bootstrap server on the lab internet\n',
  )
  await using lab = await createLab(
    {
      publicHosts: { server: {} },
      routers: { ra: { nat: 'cone', inbound: 'drop' }, rb: { nat: 'cone', inbound: 'rst' } },
      hosts: { alice: { router: 'ra' }, bob: { router: 'rb' } },
    },
    { signal },
  )
  say(
    'lab',
    `alice ${lab.host('alice').ip} behind ${lab.router('ra').wanIp} (cone NAT, drops unsolicited SYNs)`,
  )
  say('', `bob   ${lab.host('bob').ip} behind ${lab.router('rb').wanIp} (cone NAT, answers them with RST)`)

  const require = createRequire(import.meta.url)
  const serverBin = join(dirname(require.resolve('@pyp2p/bootstrap-server/package.json')), 'src', 'bin.ts')
  const serverIp = lab.host('server').ip
  const server = lab.spawnNode('server', serverBin, ['--host', serverIp, '--port', '8000'])
  await server.waitForLine(/listening on/, { signal })
  say('bootstrap server', `listening on ${serverIp}:8000`)

  const nodeScript = join(dirname(fileURLToPath(import.meta.url)), 'lab', 'node.ts')
  const alice = lab.spawnNode('alice', nodeScript, ['listen', `${serverIp}:8000`], {
    env: { PYP2P_NAME: 'Alice' },
  })
  const aliceStarted = json(await alice.waitForLine(/"event":"(started|error)"/, { signal }))
  if (aliceStarted.event === 'error') throw new Error(`alice: ${String(aliceStarted.message)}`)
  say('alice', `${String(aliceStarted.nodeType)} node (NAT ${String(aliceStarted.natType)})`)
  const aliceReady = json(await alice.waitForLine(/"event":"(ready|error)"/, { signal }))
  if (aliceReady.event === 'error') throw new Error(`alice: ${String(aliceReady.message)}`)
  say('alice', `registered with the server, UNL ${String(aliceReady.unl)}`)

  const bob = lab.spawnNode('bob', nodeScript, ['connect', `${serverIp}:8000`, String(aliceReady.unl)], {
    env: { PYP2P_NAME: 'Bob' },
  })
  const bobStarted = json(await bob.waitForLine(/"event":"(started|error)"/, { signal }))
  if (bobStarted.event === 'error') throw new Error(`bob: ${String(bobStarted.message)}`)
  say('bob', `${String(bobStarted.nodeType)} node (NAT ${String(bobStarted.natType)})`)
  const connected = json(await bob.waitForLine(/"event":"(connected|error)"/, { signal }))
  if (connected.event === 'error') throw new Error(`bob could not connect: ${String(connected.message)}`)
  say('bob -> alice', `connected in ${String(connected.ms)} ms; method: ${String(connected.method)}`)
  const got = json(await alice.waitForLine(/"event":"received"/, { signal }))
  say('alice received', JSON.stringify(got.line))
  const bobGot = json(await bob.waitForLine(/"event":"received"/, { signal }))
  say('bob received', JSON.stringify(bobGot.line))
  const [aliceExit, bobExit] = await Promise.all([alice.exited, bob.exited])
  if (aliceExit.code !== 0 || bobExit.code !== 0) throw new Error('a node did not exit cleanly')
  console.log('\nok: the lab is being removed (namespaces, routers, processes)')
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`\nlab demo failed: ${(err as Error).message}`)
    process.exit(1)
  },
)
