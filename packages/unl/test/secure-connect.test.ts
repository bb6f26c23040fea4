// The secure upgrade at the node (UnlConnector) over real loopback sockets: impersonation refused,
// the wrong key at a UNL's address, plain/secure mixes failing fast both ways, and bad handshakes
// closed with a typed error while another connection of the same node keeps working.
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { SECURE_PROLOGUE_LINE, secureOutbound } from '@pyp2p/secure'
import { afterEach, describe, expect, it } from 'vitest'
import { type IncomingConnection, UNL, UnlConnector, type UnlConnectorOptions } from '../src/index.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

interface Node {
  connector: UnlConnector
  identity: NodeIdentity
  unl: UNL
  server: Server
  /** Accepted sockets, when `manual` (the test calls handleIncoming itself). */
  accepted: Socket[]
}

async function node(o: { host?: string; manual?: boolean } & Partial<UnlConnectorOptions> = {}) {
  const host = o.host ?? '127.0.0.1'
  const identity = o.identity ?? NodeIdentity.generate()
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  const unl = new UNL({
    nodeId: identity.nodeId,
    nodeType: 'passive',
    natType: 'unknown',
    forwarding: 'none',
    port: (server.address() as { port: number }).port,
    wanAddress: host,
    lanAddress: host,
  })
  const { manual, host: _h, ...rest } = o
  const connector = new UnlConnector({ unl, identity, ...rest })
  cleanups.push(() => connector.close())
  const accepted: Socket[] = []
  if (manual === true) server.on('connection', (s: Socket) => accepted.push(s))
  else connector.acceptOn(server)
  return { connector, identity, unl, server, accepted } satisfies Node
}

async function nextSocket(n: Node): Promise<Socket> {
  if (n.accepted.length > 0) return n.accepted.shift()!
  await once(n.server, 'connection', { signal: AbortSignal.timeout(WAIT) })
  return n.accepted.shift()!
}

function incoming(n: Node): Promise<IncomingConnection> {
  return once(n.connector, 'connection', { signal: AbortSignal.timeout(WAIT) }).then(([c]) => c)
}

async function rawClient(n: Node): Promise<Socket> {
  const socket = connect(n.unl.port, n.unl.wanAddress)
  socket.on('error', () => {})
  socket.resume() // read (and drop) what the node sends, so its close is seen
  await once(socket, 'connect', { signal: AbortSignal.timeout(WAIT) })
  cleanups.push(() => socket.destroy())
  return socket
}

async function roundTrip(a: LineSocket, b: LineSocket, text: string): Promise<void> {
  a.sendLine(text)
  expect(await b.readLine({ timeout: WAIT })).toBe(text)
}

describe('secure connections at the node', () => {
  it('connects, encrypted and with the peer id proved, and says so', async () => {
    const a = await node()
    const b = await node()
    const got = incoming(a)
    const result = await b.connector.connectWithReport(a.unl, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'lan', secure: true })
    const other = await got
    expect(other).toMatchObject({ nodeId: b.identity.nodeId, secure: true, method: 'direct' })
    await roundTrip(result.connection, other.connection, 'hello over noise')
    await roundTrip(other.connection, result.connection, 'and back')
    result.connection.close()
  })

  it('refuses a raw client that writes a hello with another node’s id (the impersonation)', async () => {
    const a = await node({ manual: true })
    const victim = NodeIdentity.generate()
    const client = await rawClient(a)
    client.write(`PYP2P-CONNECT/1 ${'7'.repeat(64)} ${victim.nodeId}\r\n`)
    const refused = a.connector.handleIncoming(await nextSocket(a))
    await expect(refused).rejects.toMatchObject({ code: 'ERR_PLAINTEXT_PEER' })
    await once(client, 'close', { signal: AbortSignal.timeout(WAIT) })
  })

  it('refuses a secure client whose hello names another node than its key proves', async () => {
    const a = await node({ manual: true })
    const mallory = NodeIdentity.generate()
    const victim = NodeIdentity.generate()
    const client = await rawClient(a)
    const serving = a.connector.handleIncoming(await nextSocket(a))
    const { stream } = await secureOutbound(client, { identity: mallory, expectedNodeId: a.unl.nodeId })
    stream.write(`PYP2P-CONNECT/1 ${'7'.repeat(64)} ${victim.nodeId}\r\n`)
    await expect(serving).rejects.toMatchObject({ code: 'ERR_HELLO_ID_MISMATCH' })
  })

  it('fails with ERR_PEER_ID_MISMATCH when another key answers at a UNL’s address, before any line', async () => {
    const impostor = await node()
    const victim = NodeIdentity.generate()
    const b = await node()
    const wanted = new UNL({ ...impostor.unl.toFields(), nodeId: victim.nodeId })
    let events = 0
    impostor.connector.on('connection', () => {
      events += 1
    })
    const err = await b.connector.connect(wanted, { timeout: WAIT }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_CONNECT_FAILED' })
    const attempts = (err as { attempts: Array<{ ok: boolean; error?: { code: string } }> }).attempts
    expect(attempts[0]).toMatchObject({ method: 'lan', ok: false, error: { code: 'ERR_PEER_ID_MISMATCH' } })
    expect(attempts.some((x) => x.ok)).toBe(false)
    // An honest connection to the impostor's own UNL is its first and only connection event.
    const probe = incoming(impostor)
    const c = await b.connector.connectWithReport(impostor.unl, { timeout: WAIT })
    await probe
    c.connection.close()
    expect(events).toBe(1)
  })

  it('plain dialler, secure node: both fail fast with typed errors', async () => {
    const a = await node({ manual: true })
    const plain = await node({ secure: false, host: '127.0.0.2' })
    const dialled = plain.connector.connect(a.unl, { timeout: WAIT })
    const refused = a.connector.handleIncoming(await nextSocket(a))
    await expect(refused).rejects.toMatchObject({ code: 'ERR_PLAINTEXT_PEER' })
    // The plain dialler can't wait for a reply (the original's nodes send none first): its connection
    // closes at the secure prologue with ERR_SECURE_PEER.
    const con = await dialled
    expect((await con.closed).error).toMatchObject({ code: 'ERR_SECURE_PEER' })
  })

  it('secure dialler, plain node: both fail fast with typed errors', async () => {
    const plain = await node({ secure: false, manual: true })
    const b = await node({ host: '127.0.0.2' })
    const dialled = b.connector.connect(plain.unl, { timeout: WAIT }).catch((e: unknown) => e)
    const refused = plain.connector.handleIncoming(await nextSocket(plain))
    await expect(refused).rejects.toMatchObject({ code: 'ERR_SECURE_PEER' })
    const err = (await dialled) as { attempts: Array<{ error?: { code: string } }> }
    expect(err.attempts[0]?.error?.code).toBe('ERR_HANDSHAKE_CLOSED')
  })

  it('secure: false on both ends speaks the plain lines of the original', async () => {
    const a = await node({ secure: false })
    const b = await node({ secure: false, host: '127.0.0.2' })
    const got = incoming(a)
    const result = await b.connector.connectWithReport(a.unl, { timeout: WAIT })
    expect(result.secure).toBe(false)
    const other = await got
    expect(other).toMatchObject({ secure: false, nodeId: b.unl.nodeId })
    await roundTrip(result.connection, other.connection, 'plain')
    result.connection.close()
  })

  it('needs an identity, and the UNL must carry its node id', async () => {
    const a = await node()
    expect(() => new UnlConnector({ unl: a.unl })).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTITY_REQUIRED' }),
    )
    const other = NodeIdentity.generate()
    expect(() => new UnlConnector({ unl: a.unl, identity: other })).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTITY_MISMATCH' }),
    )
    expect(() => a.connector.setUnl(new UNL({ ...a.unl.toFields(), nodeId: other.nodeId }))).toThrow(
      expect.objectContaining({ code: 'ERR_IDENTITY_MISMATCH' }),
    )
  })
})

describe('bad handshakes at the node: typed error, bounded time, the other connection unharmed', () => {
  const prologue = Buffer.from(`${SECURE_PROLOGUE_LINE}\r\n`)
  const cases: Array<[string, (s: Socket) => void, string]> = [
    [
      'garbage',
      (s) => s.write(Buffer.from('\x00\x01\x02garbage\xff\xfe', 'latin1')),
      'ERR_HANDSHAKE_MALFORMED',
    ],
    [
      'a truncated message 1',
      (s) => s.end(Buffer.concat([prologue, Buffer.from([0, 32, 1, 2, 3])])),
      'ERR_HANDSHAKE_CLOSED',
    ],
    [
      'an oversize frame',
      (s) => s.write(Buffer.concat([prologue, Buffer.from([0xff, 0xff])])),
      'ERR_FRAME_TOO_LARGE',
    ],
    ['a stalled peer', (s) => s.write(prologue), 'ERR_HANDSHAKE_TIMEOUT'],
    ['another version', (s) => s.write('PYP2P-SECURE/9\r\n'), 'ERR_UNSUPPORTED_VERSION'],
  ]
  for (const [name, send, code] of cases) {
    it(`${name}: ${code}`, async () => {
      const a = await node({ manual: true, handshakeTimeout: 300 })
      const b = await node({ host: '127.0.0.2' })
      // a working connection first
      const dialled = b.connector.connect(a.unl, { timeout: WAIT })
      const served = await a.connector.handleIncoming(await nextSocket(a))
      const good = await dialled
      const bad = await rawClient(a)
      const refused = a.connector.handleIncoming(await nextSocket(a))
      send(bad)
      await expect(refused).rejects.toMatchObject({ code })
      await once(bad, 'close', { signal: AbortSignal.timeout(WAIT) })
      await roundTrip(good, served!.connection, 'still here')
      await roundTrip(served!.connection, good, 'and here')
      good.close()
      served!.connection.close()
    })
  }

  it('a replayed message 3 from another session: ERR_HANDSHAKE_FAILED', async () => {
    const a = await node({ manual: true })
    // Record the bytes an honest dialler sends in a whole session to a.
    const recorded: Buffer[] = []
    const honest = await rawClient(a)
    const origWrite = honest.write.bind(honest)
    honest.write = ((chunk: Buffer, ...rest: never[]) => {
      recorded.push(Buffer.from(chunk))
      return origWrite(chunk, ...rest)
    }) as typeof honest.write
    const serving = a.connector.handleIncoming(await nextSocket(a))
    const me = NodeIdentity.generate()
    const { stream } = await secureOutbound(honest, { identity: me, expectedNodeId: a.unl.nodeId })
    stream.write(`PYP2P-CONNECT/1 ${'1'.repeat(64)} ${me.nodeId}\r\n`)
    const first = (await serving)!
    // Replay them all on a new connection: message 3 was bound to the first session's keys.
    const replay = await rawClient(a)
    const refused = a.connector.handleIncoming(await nextSocket(a))
    replay.write(Buffer.concat(recorded))
    await expect(refused).rejects.toMatchObject({ code: 'ERR_HANDSHAKE_FAILED' })
    first.connection.close()
  })
})
