// Two simultaneous-type connectors punching on loopback through a real @pyp2p/bootstrap-server, for the
// punch tests. Their RendezvousPuncher is given rawLineOptions() as Net does, so a secure punch leaves
// the socket to the handshake. Call punchArena() at the top of a test file: it starts the server
// before the tests and stops everything each test made.
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import type { NatBehaviour } from '@pyp2p/punch'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { RendezvousPuncher, rawLineOptions, UNL, UnlConnector } from '../src/index.js'

export const WAIT = 10_000
const preserving: NatBehaviour = { type: 'preserving', samples: [] }

export function punchArena() {
  let server: BootstrapServer | undefined
  const cleanups: Array<() => unknown> = []
  beforeAll(async () => {
    server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
    await server.listen()
  })
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })
  afterAll(() => server?.close())

  /** A node at `wan` (a loopback address), with `secure: false` when asked. */
  async function punchNode(wan: string, o: { secure?: boolean } = {}) {
    const identity = NodeIdentity.generate()
    const puncher = await RendezvousPuncher.start({
      server: { host: '127.0.0.1', port: server!.address!.port },
      nodeId: identity.nodeId,
      nat: preserving,
      lineOptions: rawLineOptions(),
      identity, // signs the rendezvous commands acting as our id
      signal: AbortSignal.timeout(WAIT),
    })
    cleanups.push(() => puncher.close())
    const unl = new UNL({
      nodeId: identity.nodeId,
      nodeType: 'simultaneous',
      natType: 'preserving',
      forwarding: 'none',
      port: 0,
      wanAddress: wan,
      lanAddress: wan,
    })
    const connector = new UnlConnector({
      unl,
      identity,
      puncher,
      ...(o.secure === false ? { secure: false } : {}),
    })
    cleanups.push(() => connector.close())
    return { identity, connector, unl }
  }
  return { punchNode, cleanups }
}
