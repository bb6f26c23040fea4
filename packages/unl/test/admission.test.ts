/**
 * Admission inside the one upgrade: the acceptor's node decides after the hello, answers `OK` or a
 * typed refusal inside the secure stream, and the dialler resolves only after `OK` (issue 21.4).
 * Plain connections (the original's nodes) have no answer line.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { connectSocket, LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { secureInbound } from '@pyp2p/secure'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type ConnectorAdmission,
  formatAdmission,
  type IncomingConnection,
  parseAdmission,
  UNL,
  UnlConnector,
  type UnlConnectorOptions,
  UnlError,
  upgradeOutbound,
} from '../src/index.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => sockets.add(s))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return { server, port: (server.address() as { port: number }).port }
}

async function node(o: Partial<UnlConnectorOptions> & { passive?: boolean } = {}) {
  const identity = NodeIdentity.generate()
  const secure = o.secure ?? true
  const nodeId = secure ? identity.nodeId : identity.nodeId
  let server: Server | undefined
  let port = 0
  if (o.passive !== false) ({ server, port } = await listen())
  const unl = new UNL({
    nodeId,
    nodeType: o.passive === false ? 'active' : 'passive',
    natType: 'preserving',
    forwarding: 'manual',
    port,
    wanAddress: '127.0.0.1',
    lanAddress: '127.0.0.1',
  })
  const connector = new UnlConnector({ unl, identity, ...o })
  cleanups.push(() => connector.close())
  if (server !== undefined) connector.acceptOn(server)
  return { connector, unl, identity, port }
}

const incoming = (c: UnlConnector) =>
  once(c, 'connection', { signal: AbortSignal.timeout(WAIT) }).then(([i]) => i as IncomingConnection)

describe('the admission line', () => {
  it('formats and parses OK and every refusal; anything else is ERR_INVALID_ADMISSION', () => {
    expect(formatAdmission()).toBe('OK')
    expect(parseAdmission('OK')).toBeUndefined()
    const line = formatAdmission({ code: 'ERR_PEER_FULL', text: 'all 10 inbound\r\nslots' })
    expect(line).toBe('ERR_PEER_FULL all 10 inbound slots')
    expect(parseAdmission(line)).toEqual({ code: 'ERR_PEER_FULL', text: 'all 10 inbound slots' })
    expect(parseAdmission('ERR_DUPLICATE')).toEqual({ code: 'ERR_DUPLICATE', text: '' })
    for (const bad of ['ok', 'OK ', 'ERR_SOMETHING x', '', 'PYP2P-PING'])
      expect(() => parseAdmission(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADMISSION' }))
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseAdmission(s)
        } catch (err) {
          expect(err).toMatchObject({ code: 'ERR_INVALID_ADMISSION' })
        }
      }),
    )
  })
})

describe('admission inside the upgrade', () => {
  it('connect() resolves only after the acceptor admitted it; its first line is the application’s', async () => {
    const asked: ConnectorAdmission[] = []
    const a = await node({ admit: (r) => void asked.push(r) })
    const b = await node({ passive: false })
    const arrived = incoming(a.connector)
    const { connection } = await b.connector.connectWithReport(a.unl, { timeout: WAIT })
    expect(asked).toHaveLength(1) // decided before the dialler resolved
    expect(asked[0]).toMatchObject({ nodeId: b.unl.nodeId, method: 'direct', answer: false, secure: true })
    const got = await arrived
    got.connection.sendLine('first')
    expect(await connection.readLine({ timeout: WAIT })).toBe('first') // `OK` was consumed
    connection.sendLine('back')
    expect(await got.connection.readLine({ timeout: WAIT })).toBe('back')
  })

  it('a full node answers ERR_PEER_FULL: the dialler’s report shows it and it never holds the connection', async () => {
    const a = await node({ admit: () => ({ code: 'ERR_PEER_FULL', text: 'all 1 inbound slots are taken' }) })
    let delivered = 0
    a.connector.on('connection', () => {
      delivered += 1
    })
    const b = await node({ passive: false })
    const err = (await b.connector.connect(a.unl, { timeout: WAIT }).catch((e: unknown) => e)) as UnlError
    expect(err).toBeInstanceOf(UnlError)
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    expect(err.attempts?.[0]).toMatchObject({ method: 'lan', ok: false })
    expect(err.attempts?.[0]?.error).toMatchObject({ code: 'ERR_PEER_FULL', refusal: 'ERR_PEER_FULL' })
    expect(err.attempts?.[0]?.error?.message).toMatch(/all 1 inbound slots are taken/)
    expect(delivered).toBe(0)
  })

  it('other refusals are ERR_PEER_REFUSED naming the code (dialNode too)', async () => {
    const a = await node({ admit: () => ({ code: 'ERR_DUPLICATE', text: 'already connected' }) })
    const b = await node({ passive: false })
    const err = (await b.connector
      .dialNode({ nodeId: a.unl.nodeId, host: '127.0.0.1', port: a.port })
      .catch((e: unknown) => e)) as UnlError
    expect(err.attempts?.[0]?.error).toMatchObject({ code: 'ERR_PEER_REFUSED', refusal: 'ERR_DUPLICATE' })
  })

  it('an acceptor that never answers the hello fails the dial within the handshake timeout', async () => {
    const { server, port } = await listen()
    const acceptor = NodeIdentity.generate()
    server.on('connection', (socket: Socket) => {
      // An old node: handshake and hello, but no admission line.
      void secureInbound(socket, { identity: acceptor, timeout: WAIT }).then((s) => {
        const con = new LineSocket(socket, { stream: s.stream })
        cleanups.push(() => con.close())
      })
    })
    const identity = NodeIdentity.generate()
    const socket = await connectSocket({ host: '127.0.0.1', port })
    const err = await upgradeOutbound(socket, {
      identity,
      nodeId: identity.nodeId,
      nonce: 'ab'.repeat(32),
      expectedNodeId: acceptor.nodeId,
      handshakeTimeout: 200,
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_INVALID_ADMISSION' })
    expect((err as Error).message).toMatch(/no answer to the hello within 200 ms/)
    expect(socket.destroyed).toBe(true)
  })

  it('plain: no answer line (the original’s nodes send none); a refused plain connection is closed', async () => {
    let refuse = false
    const admit = () => (refuse ? { code: 'ERR_PEER_FULL' as const, text: 'full' } : undefined)
    const a = await node({ secure: false, admit })
    const b = await node({ secure: false, passive: false })
    const arrived = incoming(a.connector)
    const con = await b.connector.connect(a.unl, { timeout: WAIT })
    const got = await arrived
    got.connection.sendLine('plain first')
    expect(await con.readLine({ timeout: WAIT })).toBe('plain first')
    refuse = true
    const refused = await b.connector.connect(a.unl, { timeout: WAIT })
    const info = await refused.closed
    expect(refused.queuedLines).toBe(0) // closed without a line
    expect(info.reason).not.toBe('local')
  })
})
