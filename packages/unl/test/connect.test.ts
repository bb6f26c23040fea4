import { EventEmitter, once } from 'node:events'
import { createServer } from 'node:net'
import { type MessageTransport, NodeIdentity, RelayClient } from '@pyp2p/dht-msg'
import { RelayServer } from '@pyp2p/dht-msg/server'
import { connectLine, LineSocket } from '@pyp2p/framing'
import { describe, expect, it } from 'vitest'
import {
  formatReverseRequest,
  type IncomingConnection,
  isMaster,
  type Puncher,
  type PunchRequest,
  rawLineOptions,
  UNL,
  UnlConnector,
  UnlError,
} from '../src/index.js'
import { loopbackNodes, WAIT } from './loopback-nodes.js'

const { cleanups, relayPort, startNode } = loopbackNodes()

function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string): Promise<T> {
  return once(emitter, event, { signal: AbortSignal.timeout(WAIT) }).then(([v]) => v as T)
}

async function exchange(a: import('@pyp2p/framing').LineSocket, b: import('@pyp2p/framing').LineSocket) {
  a.sendLine('ping')
  expect(await b.readLine({ timeout: WAIT })).toBe('ping')
  b.sendLine('pong')
  expect(await a.readLine({ timeout: WAIT })).toBe('pong')
  a.close()
  b.close()
}

describe('UnlConnector over loopback', () => {
  it('connects directly to a passive node and reports the method and duration', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const incoming = nextEvent<IncomingConnection>(a.connector, 'connection')
    const result = await b.connector.connectWithReport(a.unl.text, { timeout: WAIT })
    expect(result.method).toBe('direct')
    expect(result.durationMs).toBeGreaterThanOrEqual(0)
    expect(result.attempts[0]).toMatchObject({ method: 'direct', ok: true })
    const got = await incoming
    expect(got).toMatchObject({ method: 'direct', nodeId: b.unl.nodeId })
    await exchange(result.connection, got.connection)
  })

  it('dials a listed node (dialNode) through the same hello step: method direct', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const incoming = nextEvent<IncomingConnection>(a.connector, 'connection')
    const listed = { nodeId: a.unl.nodeId, host: '127.0.0.2', port: a.unl.port }
    const result = await b.connector.dialNode(listed, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'direct', attempts: [{ method: 'direct', ok: true }] })
    const got = await incoming
    expect(got).toMatchObject({ method: 'direct', nodeId: b.unl.nodeId })
    await exchange(result.connection, got.connection)
    const closed = await startNode({ wan: '127.0.0.4' })
    await new Promise((resolve) => closed.server!.close(resolve))
    const gone = { nodeId: closed.unl.nodeId, host: '127.0.0.4', port: closed.unl.port }
    await expect(b.connector.dialNode(gone, { timeout: WAIT })).rejects.toMatchObject({
      code: 'ERR_CONNECT_FAILED',
      attempts: [{ method: 'direct', ok: false, error: { code: 'ERR_CONNECT_FAILED' } }],
    })
  })

  it('asks an active node through the relay to connect back (reverse connect)', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const dialled = nextEvent<IncomingConnection>(b.connector, 'connection')
    const result = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(result.method).toBe('reverse')
    const other = await dialled
    expect(other).toMatchObject({ method: 'reverse', nodeId: a.unl.nodeId })
    expect(other.peer?.equals(a.unl)).toBe(true)
    await exchange(result.connection, other.connection)
  })

  it('uses the LAN address when both nodes share a WAN address', async () => {
    const a = await startNode({ wan: '127.0.0.5', lan: '127.0.0.6' })
    const b = await startNode({ wan: '127.0.0.5', lan: '127.0.0.7', nodeType: 'active' })
    const incoming = nextEvent<IncomingConnection>(a.connector, 'connection')
    const result = await b.connector.connectWithReport(a.unl, { timeout: WAIT })
    expect(result.method).toBe('lan')
    expect(result.connection.remoteAddress).toBe('127.0.0.6')
    await exchange(result.connection, (await incoming).connection)
  })

  it('hands two simultaneous nodes to the injected Puncher', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const simultaneous = new UNL({ ...a.unl.toFields(), nodeType: 'simultaneous' })
    a.connector.setUnl(simultaneous)
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const requests: PunchRequest[] = []
    // A loopback "puncher": no NAT in the way, so a plain dial to the peer's listening port stands in
    // for the simultaneous open @pyp2p/punch will do.
    const puncher: Puncher = {
      async punch(request) {
        requests.push(request)
        const con = await connectLine({
          host: request.theirs.wanAddress,
          port: request.theirs.port,
          signal: request.signal,
          ...rawLineOptions(), // the socket left unread: the connector's upgrade step runs the handshake
        })
        return con
      },
    }
    const bUnl = new UNL({ ...b.unl.toFields(), nodeType: 'simultaneous', port: 1 })
    const punching = new UnlConnector({ unl: bUnl, identity: b.identity, transport: b.relay, puncher })
    cleanups.push(() => punching.close())
    const incoming = nextEvent<IncomingConnection>(a.connector, 'connection')
    const result = await punching.connectWithReport(simultaneous, { timeout: WAIT })
    expect(result.method).toBe('punch')
    // the peer read exactly one hello, ours, with the nonce the puncher was given
    expect(await incoming).toMatchObject({ nodeId: bUnl.nodeId })
    expect(requests).toHaveLength(1)
    expect(requests[0]!.nonce).toMatch(/^[0-9a-f]{64}$/)
    expect(requests[0]!.master).toBe(isMaster(bUnl, simultaneous))
    await exchange(result.connection, (await incoming).connection)
  })

  it('supports the original events style', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const success = new Promise<string>((resolve, reject) => {
      void b.connector.connect(a.unl, {
        timeout: WAIT,
        events: {
          success: (con, r) => {
            resolve(`${r.method}:${con.isOpen}`)
            con.close()
          },
          failure: reject,
        },
      })
    })
    expect(await success).toBe('direct:true')
    const failure = new Promise<UnlError>((resolve) => {
      void b.connector.connect(b.unl, { events: { failure: resolve } })
    })
    expect((await failure).code).toBe('ERR_CONNECT_SELF')
  })

  it('closes an incoming connection whose first line is not a connect hello', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const con = await connectLine({ host: '127.0.0.2', port: a.unl.port, timeout: WAIT })
    con.sendLine('GET / HTTP/1.0')
    expect((await con.closed).reason).toBe('peer')
    // A plain connector (secure: false) reads the hello itself, from a LineSocket or the raw socket.
    const plain = new UnlConnector({ unl: a.unl, secure: false })
    cleanups.push(() => plain.close())
    const raw = createServer()
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.2', resolve))
    cleanups.push(() => new Promise((resolve) => raw.close(resolve)))
    const accepted = once(raw, 'connection')
    const dialer = await connectLine({ host: '127.0.0.2', port: (raw.address() as { port: number }).port })
    dialer.sendLine(`PYP2P-CONNECT/1 ${'0'.repeat(64)} not-an-id`)
    const [socket] = await accepted
    await expect(plain.handleIncoming(new LineSocket(socket))).rejects.toMatchObject({
      code: 'ERR_INVALID_HELLO',
      message: expect.stringContaining('node id'),
    })
    dialer.close()
  })

  it('requires the UNL to carry the transport’s node id', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const other = new UNL({ ...a.unl.toFields(), nodeId: 'ab'.repeat(20) })
    expect(() => new UnlConnector({ unl: other, identity: a.identity, transport: a.relay })).toThrow(
      /transport's node id/,
    )
    expect(() => a.connector.setUnl(other)).toThrow(UnlError)
  })

  it('refuses to connect to itself', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    await expect(a.connector.connect(a.unl)).rejects.toMatchObject({ code: 'ERR_CONNECT_SELF' })
  })

  it('reports every method tried and why each failed', async () => {
    const a = await startNode({ wan: '127.0.0.2', relay: false })
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.3', resolve))
    const deadPort = (closed.address() as { port: number }).port
    await new Promise((resolve) => closed.close(resolve))
    const dead = new UNL({
      ...a.unl.toFields(),
      nodeId: 'cd'.repeat(20),
      wanAddress: '127.0.0.3',
      port: deadPort,
    })
    const err = await rejection(a.connector.connect(dead, { timeout: WAIT }))
    expect(err).toBeInstanceOf(UnlError)
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    expect(err.attempts?.map((x) => [x.method, x.ok, x.skipped ?? false])).toEqual([
      ['direct', false, false],
      ['reverse', false, true],
      ['punch', false, true],
      ['relay', false, true],
    ])
    expect(err.message).toMatch(
      /direct failed after \d+ ms \(Connecting to 127\.0\.0\.3:\d+ failed: .*ECONNREFUSED/,
    )
    expect(err.message).toMatch(/reverse skipped \(no message transport/)
  })

  it('times out a reverse connect the peer never answers, and honours abort', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const ghost = new UNL({
      ...a.unl.toFields(),
      nodeId: 'ee'.repeat(20),
      nodeType: 'active',
      port: 0,
      wanAddress: '127.0.0.9',
    })
    const err = await rejection(a.connector.connect(ghost, { timeout: 300 }))
    expect(err.code).toBe('ERR_CONNECT_TIMEOUT')
    // The attempt says how far it got: the relay took the request, the peer never dialled in.
    expect(err.attempts?.[0]).toMatchObject({
      method: 'reverse',
      ok: false,
      error: { code: 'ERR_REVERSE_TIMEOUT', message: expect.stringMatching(/did not connect back/) },
    })
    const ac = new AbortController()
    const pending = a.connector.connect(ghost, { signal: ac.signal, timeout: WAIT })
    ac.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  it('fails a reverse connect after reverseTimeout with ERR_REVERSE_TIMEOUT, the others still tried', async () => {
    const a = await startNode({ wan: '127.0.0.2' })
    const ghost = new UNL({ ...a.unl.toFields(), nodeId: 'ee'.repeat(20), wanAddress: '127.0.0.9' })
    const impatient = new UnlConnector({
      unl: a.unl,
      identity: a.identity,
      transport: a.relay,
      reverseTimeout: 200,
    })
    cleanups.push(() => impatient.close())
    const err = await rejection(impatient.connect(ghost, { timeout: WAIT }))
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    const methods = err.attempts?.filter((x) => !x.skipped).map((x) => x.method)
    expect(methods?.sort()).toEqual(['direct', 'reverse'])
    const reverse = err.attempts?.find((x) => x.method === 'reverse')
    expect(reverse?.error).toMatchObject({ code: 'ERR_REVERSE_TIMEOUT' })
    expect(reverse?.error?.message).toMatch(/accepted the request 1 time\)/)
  })

  it('sends a reverse request again when the relay lost the one it had accepted (restart)', async () => {
    // A relay of this test's own, restarted on the same port while it holds the request.
    const relay1 = new RelayServer()
    const { port } = await relay1.listen({ host: '127.0.0.1', port: 0 })
    const relayA = await RelayClient.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    cleanups.push(() => relayA.close())
    const accepted = new EventEmitter()
    let sends = 0
    const transport: MessageTransport = {
      nodeId: relayA.nodeId,
      async send(to, message, options) {
        await relayA.send(to, message, options)
        sends += 1
        accepted.emit('sent')
      },
      subscribe: (handler) => relayA.subscribe(handler),
      close: () => relayA.close(),
    }
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve))
    cleanups.push(() => new Promise((resolve) => server.close(resolve)))
    const aUnl = new UNL({
      nodeId: relayA.nodeId,
      nodeType: 'passive',
      natType: 'unknown',
      forwarding: 'none',
      port: (server.address() as { port: number }).port,
      wanAddress: '127.0.0.2',
      lanAddress: '127.0.0.2',
    })
    const a = new UnlConnector({ unl: aUnl, identity: relayA.identity, transport, reverseResend: 100 })
    cleanups.push(() => a.close())
    a.acceptOn(server)
    // b is offline for now: the relay queues the request for it.
    const bIdentity = NodeIdentity.generate()
    const bUnl = new UNL({
      ...aUnl.toFields(),
      nodeId: bIdentity.nodeId,
      nodeType: 'active',
      port: 0,
      wanAddress: '127.0.0.3',
      lanAddress: '127.0.0.3',
    })
    const firstSent = nextEvent(accepted, 'sent')
    const result = a.connectWithReport(bUnl, { timeout: WAIT })
    await firstSent
    expect(relay1.queuedCount).toBe(1)
    await relay1.close() // the request is gone with it
    const relay2 = new RelayServer()
    await relay2.listen({ host: '127.0.0.1', port })
    cleanups.push(() => relay2.close())
    const relayB = await RelayClient.connect({
      host: '127.0.0.1',
      port,
      identity: bIdentity,
      localAddress: '127.0.0.3',
    })
    cleanups.push(() => relayB.close())
    const b = new UnlConnector({ unl: bUnl, identity: bIdentity, transport: relayB })
    cleanups.push(() => b.close())
    const dialled = nextEvent<IncomingConnection>(b, 'connection')
    const { connection, method } = await result
    expect(method).toBe('reverse')
    expect(sends).toBeGreaterThanOrEqual(2)
    await exchange(connection, (await dialled).connection)
  })

  it('does not dial for a request whose UNL is not the sender’s, or whose WAN address is not the sender’s', async () => {
    const victim = await startNode({ wan: '127.0.0.2' })
    const target = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    const mallory = await startNode({ wan: '127.0.0.4', nodeType: 'active' })
    const refused = (): Promise<{ from: string; error: Error }> => nextEvent(target.connector, 'refused')
    // Someone else's UNL.
    let r = refused()
    await mallory.relay.send(target.unl.nodeId, formatReverseRequest(victim.unl, 'a'.repeat(64)))
    expect((await r).error.message).toMatch(/not the authenticated sender/)
    // Mallory's own id, the victim's address.
    const forged = new UNL({ ...victim.unl.toFields(), nodeId: mallory.unl.nodeId })
    r = refused()
    await mallory.relay.send(target.unl.nodeId, formatReverseRequest(forged, 'b'.repeat(64)))
    expect((await r).error.message).toMatch(/is not where the request came from \(127\.0\.0\.4\)/)
    // Garbage.
    r = refused()
    await mallory.relay.send(target.unl.nodeId, 'REVERSE_CONNECT nonsense 123')
    expect((await r).error).toMatchObject({ code: 'ERR_INVALID_REVERSE_REQUEST' })
  })

  it('rate-limits reverse-connect requests per sender', async () => {
    const relayA = await RelayClient.connect({
      host: '127.0.0.1',
      port: relayPort(),
      localAddress: '127.0.0.2',
    })
    cleanups.push(() => relayA.close())
    const srv = createServer((s) => s.destroy())
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.2', resolve))
    cleanups.push(() => new Promise((resolve) => srv.close(resolve)))
    const port = (srv.address() as { port: number }).port
    const aUnl = new UNL({
      nodeId: relayA.nodeId,
      nodeType: 'passive',
      natType: 'preserving',
      forwarding: 'none',
      port,
      wanAddress: '127.0.0.2',
      lanAddress: '127.0.0.2',
    })
    const b = await startNode({ wan: '127.0.0.3', nodeType: 'active' })
    // Plain: the stand-in for node a (a server that hangs up) runs no handshake.
    const limited = new UnlConnector({
      unl: b.unl,
      secure: false,
      transport: b.relay,
      reverseLimits: { perSender: 1 },
    })
    cleanups.push(() => limited.close())
    const refused = nextEvent<{ error: Error }>(limited, 'refused')
    const answered = nextEvent<IncomingConnection>(limited, 'connection')
    await relayA.send(b.unl.nodeId, formatReverseRequest(aUnl, '1'.repeat(64)))
    await relayA.send(b.unl.nodeId, formatReverseRequest(aUnl, '1'.repeat(64))) // a repeat: ignored
    await relayA.send(b.unl.nodeId, formatReverseRequest(aUnl, '2'.repeat(64))) // over the limit
    expect((await answered).nodeId).toBe(relayA.nodeId)
    expect((await refused).error.message).toMatch(/too many requests from this sender: rate limited/)
  })
})

/** The rejection of `p` (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<UnlError> {
  try {
    await p
  } catch (err) {
    return err as UnlError
  }
  throw new Error('expected a rejection')
}
