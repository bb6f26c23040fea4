// Issue 18: a plain (`secure: false`) punch between two connectors whose RendezvousPuncher is given
// rawLineOptions() (as Net does, so secure punches leave the socket to the handshake). The punched
// LineSocket's lines travel over a PassThrough, which hands a connection's own lines back to it: the
// plain upgrade must read and write the socket itself, not that LineSocket (seen in the lab as the
// dialler "connected to itself": its own greeting came back, the target never saw the hello).
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import type { NatBehaviour } from '@pyp2p/punch'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type IncomingConnection,
  RendezvousPuncher,
  rawLineOptions,
  UNL,
  UnlConnector,
} from '../src/index.js'
import { linesOn } from '../src/raw-socket.js'

const WAIT = 10_000
const preserving: NatBehaviour = { type: 'preserving', samples: [] }
let server: BootstrapServer
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
  await server.listen()
})
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})
afterAll(() => server?.close())

async function plainNode(wan: string) {
  const identity = NodeIdentity.generate()
  const puncher = await RendezvousPuncher.start({
    server: { host: '127.0.0.1', port: server.address!.port },
    nodeId: identity.nodeId,
    nat: preserving,
    lineOptions: rawLineOptions(),
    identity,
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
  const connector = new UnlConnector({ unl, identity, puncher, secure: false })
  cleanups.push(() => connector.close())
  return { identity, connector, unl }
}

describe('plain punch', () => {
  it('the lines cross between the two nodes; neither gets its own back', async () => {
    const a = await plainNode('127.0.0.2')
    const b = await plainNode('127.0.0.3')
    // Without the fix b never reads a's hello (it went into a's PassThrough): no connection event.
    const incoming = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'punch', secure: false })
    result.connection.sendLine(`hello ${a.identity.nodeId}`)
    const [other] = (await incoming) as [IncomingConnection]
    expect(other).toMatchObject({ method: 'punch', secure: false, nodeId: a.identity.nodeId })
    cleanups.push(() => other.connection.close())
    cleanups.push(() => result.connection.close())
    other.connection.sendLine(`hello ${b.identity.nodeId}`)
    expect(await result.connection.readLine({ timeout: WAIT })).toBe(`hello ${b.identity.nodeId}`)
    expect(await other.connection.readLine({ timeout: WAIT })).toBe(`hello ${a.identity.nodeId}`)
  })

  it('linesOn(): a LineSocket whose lines go over another stream does not count as reading its socket', async () => {
    const { createServer, connect } = await import('node:net')
    const srv = createServer()
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => srv.close(resolve)))
    const socket = connect({ host: '127.0.0.1', port: (srv.address() as { port: number }).port })
    cleanups.push(() => socket.destroy())
    const raw = new LineSocket(socket, { stream: new PassThrough() })
    expect(linesOn(raw)).toBeUndefined()
    expect(linesOn(socket)).toBeUndefined()
    const reading = new LineSocket(socket)
    expect(linesOn(reading)).toBe(reading)
  })
})
