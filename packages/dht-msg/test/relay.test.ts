import { createServer } from 'node:net'
import { connectLine, LineSocket } from '@pyp2p/framing'
import { manualClock } from '@pyp2p/limits'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { NodeIdentity, type RelayClient, type TransportMessage } from '../src/index.js'
import { isRelayHello, type RelayServer } from '../src/server.js'
import { client, HOST, next, rawSession, startRelay, WAIT, within } from './helpers.js'

const cleanups: Array<() => Promise<unknown> | unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function relay(...args: Parameters<typeof startRelay>): Promise<{ server: RelayServer; port: number }> {
  const r = await startRelay(...args)
  cleanups.push(() => r.server.close())
  return r
}

async function node(port: number, options: Parameters<typeof client>[1] = {}): Promise<RelayClient> {
  const c = await client(port, options)
  cleanups.push(() => c.close())
  return c
}

describe('RelayClient and RelayServer over loopback', () => {
  it('delivers a message to a connected node, with the authenticated sender and its address', async () => {
    const { port } = await relay()
    const alice = await node(port)
    const bob = await node(port)
    const got = next<TransportMessage>(bob, 'message')
    await alice.send(bob.nodeId, 'hello bob ✓')
    expect(await got).toMatchObject({ from: alice.nodeId, message: 'hello bob ✓', fromAddress: HOST })
    expect(alice.observedAddress?.address).toBe(HOST)
  })

  it('keeps messages for a node that is offline and delivers them in order when it connects', async () => {
    const { port } = await relay()
    const alice = await node(port)
    const bobId = NodeIdentity.generate()
    await alice.send(bobId.nodeId, 'one')
    await alice.send(bobId.nodeId, 'two')
    const bob = await node(port, { identity: bobId })
    const received: string[] = []
    for await (const m of bob.messages({ signal: AbortSignal.timeout(WAIT) })) {
      received.push(m.message)
      if (received.length === 2) break
    }
    expect(received).toEqual(['one', 'two'])
  })

  it('does not let a wrong key read another node’s messages', async () => {
    const { server, port } = await relay()
    const alice = await node(port)
    const bob = NodeIdentity.generate()
    const mallory = NodeIdentity.generate()
    await alice.send(bob.nodeId, 'for bob only')
    // Claim bob's id, prove it with mallory's key.
    const con = await connectLine({ host: HOST, port, timeout: WAIT })
    con.sendLine(`RELAY PYP2P-MSG/1 ${bob.nodeId}`)
    const challenge = (await con.readLine({ timeout: WAIT })).split(' ')[1]!
    con.sendLine(`AUTH ${mallory.publicKey} ${mallory.signChallenge(challenge)}`)
    expect(await con.readLine({ timeout: WAIT })).toMatch(/^ERROR ERR_AUTH_FAILED /)
    expect((await con.closed).reason).toBe('peer')
    // Bob's own key, but a signature by someone else.
    const con2 = await connectLine({ host: HOST, port, timeout: WAIT })
    con2.sendLine(`RELAY PYP2P-MSG/1 ${bob.nodeId}`)
    const challenge2 = (await con2.readLine({ timeout: WAIT })).split(' ')[1]!
    con2.sendLine(`AUTH ${bob.publicKey} ${mallory.signChallenge(challenge2)}`)
    expect(await con2.readLine({ timeout: WAIT })).toMatch(/^ERROR ERR_AUTH_FAILED /)
    await con2.closed
    expect(server.queuedCount).toBe(1)
    const realBob = await node(port, { identity: NodeIdentity.fromSecret(bob.secret) })
    expect((await next<TransportMessage>(realBob, 'message')).message).toBe('for bob only')
  })

  it('expires messages that wait longer than messageTtl, on the injected clock', async () => {
    const clock = manualClock(1_000_000)
    const { server, port } = await relay({ clock, messageTtl: 60_000 })
    const alice = await node(port)
    const bobId = NodeIdentity.generate()
    await alice.send(bobId.nodeId, 'stale')
    clock.advance(59_999)
    server.sweep()
    expect(server.queuedCount).toBe(1)
    clock.advance(1)
    server.sweep()
    expect(server.queuedCount).toBe(0)
    await alice.send(bobId.nodeId, 'fresh')
    const bob = await node(port, { identity: bobId })
    expect((await next<TransportMessage>(bob, 'message')).message).toBe('fresh')
  })

  it('bounds queues per node, per sender and in total with typed errors', async () => {
    const { port } = await relay({ maxQueuedPerNode: 3, maxQueuedPerPair: 2, maxQueuedTotal: 4 })
    const alice = await node(port)
    const carol = await node(port)
    const bob = NodeIdentity.generate().nodeId
    const dave = NodeIdentity.generate().nodeId
    await alice.send(bob, '1')
    await alice.send(bob, '2')
    await expect(alice.send(bob, '3')).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    await carol.send(bob, '3')
    await expect(carol.send(bob, '4')).rejects.toMatchObject({ code: 'ERR_QUEUE_FULL' })
    await carol.send(dave, '1')
    await expect(alice.send(dave, '2')).rejects.toMatchObject({ code: 'ERR_RELAY_FULL' })
  })

  it('refuses oversized messages on the client and on the relay', async () => {
    const { port } = await relay({ maxMessageBytes: 100 })
    const alice = await node(port, { maxMessageBytes: 10 })
    const bigClient = await node(port, { maxMessageBytes: 1000 })
    const bob = NodeIdentity.generate().nodeId
    await expect(alice.send(bob, 'x'.repeat(11))).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' })
    await expect(bigClient.send(bob, 'x'.repeat(101))).rejects.toMatchObject({
      code: 'ERR_MESSAGE_TOO_LARGE',
      message: expect.stringContaining('100-byte limit'),
    })
    await bigClient.send(bob, 'x'.repeat(100))
  })

  it('rate-limits per sender id and per source address, refilling on the injected clock', async () => {
    const clock = manualClock()
    const { port } = await relay({
      clock,
      senderLimit: { burst: 3, perSecond: 1 },
      ipLimit: { burst: 4, perSecond: 1 },
    })
    const alice = await node(port)
    const carol = await node(port)
    const to = NodeIdentity.generate().nodeId
    // alice: 3 sends (her id's burst, 3 of the address's 4); carol: the 4th from this address.
    for (const m of ['1', '2', '3']) await alice.send(to, m)
    await expect(alice.send(to, '4')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    await carol.send(to, '1')
    await expect(carol.send(to, '2')).rejects.toMatchObject({
      code: 'ERR_RATE_LIMITED',
      message: expect.stringContaining('address'),
    })
    clock.advance(999)
    await expect(alice.send(to, '5')).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    clock.advance(1) // one token back in alice's bucket and in the address's
    await alice.send(to, '6')
    await expect(carol.send(to, '3')).rejects.toMatchObject({ message: expect.stringContaining('address') })
  })

  it('still takes a plain function as its clock (the earlier option shape)', async () => {
    let now = 0
    const { server, port } = await relay({ clock: () => now, messageTtl: 1_000 })
    const alice = await node(port)
    await alice.send(NodeIdentity.generate().nodeId, 'short-lived')
    now = 1_000
    server.sweep()
    expect(server.queuedCount).toBe(0)
  })

  it('reconnects after the relay drops the connection, keeping messages sent meanwhile', async () => {
    const { server, port } = await relay()
    const alice = await node(port)
    const bob = await node(port)
    const dropped = next(alice, 'disconnected')
    expect(server.disconnect(alice.nodeId)).toBe(true)
    await dropped
    expect(alice.isConnected).toBe(false)
    const sent = alice.send(bob.nodeId, 'sent while down')
    expect(alice.pendingSends).toBe(1)
    const got = next<TransportMessage>(bob, 'message')
    await sent
    expect((await got).message).toBe('sent while down')
  })

  it('reconnects after a relay restart on the same port without losing queued sends', async () => {
    const first = await startRelay()
    const port = first.port
    const alice = await node(port)
    const bob = await node(port)
    const downA = next(alice, 'disconnected')
    const downB = next(bob, 'disconnected')
    await first.server.close()
    await Promise.all([downA, downB])
    const sent = alice.send(bob.nodeId, 'across the restart')
    const got = next<TransportMessage>(bob, 'message')
    await relay({}, port)
    await sent
    expect((await got).message).toBe('across the restart')
  })

  it('redelivers a message that was pushed but not acknowledged before a drop', async () => {
    const { port } = await relay()
    const alice = await node(port)
    const bob = NodeIdentity.generate()
    const raw = await rawSession(port, bob)
    await alice.send(bob.nodeId, 'ack me')
    expect(await raw.readLine({ timeout: WAIT })).toMatch(new RegExp(`^MSG ${alice.nodeId} `))
    raw.close()
    await raw.closed
    const realBob = await node(port, { identity: bob })
    expect((await next<TransportMessage>(realBob, 'message')).message).toBe('ack me')
  })

  it('answers a malformed line with an error and keeps the connection usable', async () => {
    const { port } = await relay()
    const raw = await rawSession(port, NodeIdentity.generate())
    cleanups.push(() => raw.close())
    raw.sendLine('NONSENSE here')
    expect(await raw.readLine({ timeout: WAIT })).toMatch(/^ERROR ERR_BAD_LINE /)
    raw.sendLine('SEND m1 nothex aGk')
    expect(await raw.readLine({ timeout: WAIT })).toMatch(/^FAIL m1 ERR_INVALID_NODE_ID /)
    raw.sendLine('PING still-here')
    expect(await raw.readLine({ timeout: WAIT })).toBe('PONG still-here')
  })

  it('survives random lines on an authenticated connection (fast-check)', async () => {
    const { port } = await relay()
    const raw = await rawSession(port, NodeIdentity.generate())
    cleanups.push(() => raw.close())
    const word = fc.constantFrom('SEND', 'ACK', 'PING', 'MSG', 'AUTH', 'RELAY', 'x', 'a'.repeat(40), 'aGk')
    const line = fc
      .oneof(
        fc.string({ maxLength: 200 }),
        fc.array(word, { maxLength: 5 }).map((w) => w.join(' ')),
      )
      .filter((l) => !/[\r\n]/.test(l) && l.trim() !== 'QUIT')
    for (const l of fc.sample(line, { numRuns: 300, seed: 42 })) raw.sendLine(l)
    raw.sendLine('PING final')
    for (;;) {
      const reply = await raw.readLine({ timeout: WAIT })
      expect(reply).toMatch(/^(ERROR|FAIL|SENT|PONG|MSG) /)
      if (reply === 'PONG final') break
    }
    expect(raw.isOpen).toBe(true)
  })

  it('closes only the connection that sends an overlong line', async () => {
    const { port } = await relay({ maxLineLength: 1024 })
    const alice = await node(port)
    const bob = await node(port)
    const raw = await rawSession(port, NodeIdentity.generate())
    raw.socket.write(`PING ${'x'.repeat(2000)}\r\n`)
    expect((await raw.closed).reason).toBe('peer')
    const got = next<TransportMessage>(bob, 'message')
    await alice.send(bob.nodeId, 'still works')
    expect((await got).message).toBe('still works')
  })

  it('replaces an older connection of the same node id, closing the old client', async () => {
    const { port } = await relay()
    const identity = NodeIdentity.generate()
    const old = await node(port, { identity })
    const closed = next<{ error?: Error }>(old, 'close')
    await node(port, { identity: NodeIdentity.fromSecret(identity.secret) })
    expect((await closed).error).toMatchObject({ code: 'ERR_REPLACED' })
  })

  it('rejects pending sends with ERR_CLOSED on close, and fails fast on a refused first connect', async () => {
    const { server, port } = await relay()
    const alice = await node(port)
    const down = next(alice, 'disconnected')
    server.disconnect(alice.nodeId)
    await down
    await server.close()
    const pending = alice.send(NodeIdentity.generate().nodeId, 'never')
    await alice.close()
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    await expect(client(port)).rejects.toMatchObject({ code: 'ERR_CONNECT_FAILED' })
  })

  it('bounds the outgoing queue while disconnected, expires old sends, and honours abort', async () => {
    const clock = manualClock()
    const { server, port } = await relay()
    const alice = await node(port, { maxOutgoing: 2, messageTtl: 60_000, clock })
    const down = next(alice, 'disconnected')
    await server.close()
    await down
    const to = NodeIdentity.generate().nodeId
    const ac = new AbortController()
    const aborted = alice.send(to, 'aborted', { signal: ac.signal })
    const expiring = alice.send(to, 'expires')
    await expect(alice.send(to, 'one too many')).rejects.toMatchObject({ code: 'ERR_OUTGOING_QUEUE_FULL' })
    ac.abort()
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    // Each reconnect attempt drops what waited messageTtl or longer on the client's clock. Two failed
    // attempts after the clock moved: at least one of them checked at 59,999 ms.
    clock.advance(59_999)
    await next(alice, 'disconnected')
    await next(alice, 'disconnected')
    expect(alice.pendingSends).toBe(1)
    clock.advance(1)
    await within(
      expect(expiring).rejects.toMatchObject({
        code: 'ERR_EXPIRED',
        message: expect.stringContaining('60000 ms'),
      }),
    )
    expect(alice.pendingSends).toBe(0)
  })

  it('serves connections handed over by another server after its own greeting', async () => {
    const relayServer = (await relay()).server
    const host = createServer((socket) => {
      const con = new LineSocket(socket, relayServer.lineLimits)
      con.sendLine(`HELLO PYP2P/1 ${socket.remoteAddress} ${socket.remotePort}`)
      void con.readLine({ timeout: WAIT }).then(
        (firstLine) => {
          if (isRelayHello(firstLine)) relayServer.handle(con, { firstLine })
          else con.close()
        },
        () => con.close(),
      )
    })
    await new Promise<void>((resolve) => host.listen(0, HOST, resolve))
    cleanups.push(() => new Promise((resolve) => host.close(resolve)))
    const port = (host.address() as { port: number }).port
    const alice = await node(port)
    const bob = await node(port)
    const got = next<TransportMessage>(bob, 'message')
    await alice.send(bob.nodeId, 'via the shared port')
    expect((await got).message).toBe('via the shared port')
  })
})
