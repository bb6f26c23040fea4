/**
 * Dead peers (issue 19.2): a secure connection keeps itself alive with `PYP2P-PING`/`PYP2P-PONG`
 * inside the stream (@pyp2p/framing's heartbeat); a peer that stops answering fails the connection
 * with ERR_KEEPALIVE_TIMEOUT within interval + timeout, and sendLine then throws instead of buffering.
 */
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { HEARTBEAT_PING, HEARTBEAT_PONG, type IncomingConnection, UNL, UnlConnector } from '../src/index.js'
import { socketPair } from './socket-pair.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  vi.useRealTimers()
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const pair = () => socketPair(cleanups)

const heartbeat = { interval: 1_000, timeout: 500, ping: HEARTBEAT_PING, pong: HEARTBEAT_PONG }

describe('heartbeat (fake clock, real sockets)', () => {
  it('a silent peer is dead exactly interval + timeout after its last bytes; sendLine then throws, typed', async () => {
    const [sa, sb] = await pair()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const a = new LineSocket(sa, { heartbeat })
    const b = new LineSocket(sb) // knows no heartbeat: never answers (a frozen or vanished peer)
    const pinged = once(sb, 'data')
    vi.advanceTimersByTime(heartbeat.interval - 1)
    expect(sb.bytesRead).toBe(0) // no ping before the interval
    vi.advanceTimersByTime(1)
    expect(String((await pinged)[0])).toBe(`${HEARTBEAT_PING}\r\n`) // on the wire, to the peer
    vi.advanceTimersByTime(heartbeat.timeout - 1)
    expect(a.isOpen).toBe(true)
    vi.advanceTimersByTime(1)
    const info = await a.closed
    expect(info).toMatchObject({ reason: 'error', error: { code: 'ERR_KEEPALIVE_TIMEOUT' } })
    expect(() => a.sendLine('into the void')).toThrow(
      expect.objectContaining({
        code: 'ERR_CONNECTION_CLOSED',
        cause: expect.objectContaining({ code: 'ERR_KEEPALIVE_TIMEOUT' }),
      }),
    )
    expect((await b.closed).reason).not.toBe('local') // the peer's side is closed too
  })

  it('a live peer answers: heartbeat lines never reach the reader, the connection stays', async () => {
    const [sa, sb] = await pair()
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const a = new LineSocket(sa, { heartbeat })
    const b = new LineSocket(sb, { heartbeat })
    // Each ping is due `interval` after the last bytes heard; after it, `timeout` passes unharmed.
    let untilPing = heartbeat.interval
    for (let round = 0; round < 3; round++) {
      const answered = Promise.all([once(sa, 'data'), once(sb, 'data')]) // each hears the other
      vi.advanceTimersByTime(untilPing)
      await answered
      vi.advanceTimersByTime(heartbeat.timeout)
      expect(a.isOpen && b.isOpen).toBe(true)
      untilPing = heartbeat.interval - heartbeat.timeout
    }
    b.sendLine('application')
    expect(await a.readLine()).toBe('application')
    expect(a.queuedLines + b.queuedLines).toBe(0)
    a.close()
    b.close()
  })
})

describe('UnlConnector keeps secure connections alive', () => {
  async function connector(heartbeatInterval: number) {
    const identity = NodeIdentity.generate()
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const sockets = new Set<Socket>()
    server.on('connection', (s: Socket) => sockets.add(s))
    const unl = new UNL({
      nodeId: identity.nodeId,
      nodeType: 'passive',
      natType: 'preserving',
      forwarding: 'manual',
      port: (server.address() as { port: number }).port,
      wanAddress: '127.0.0.1',
      lanAddress: '127.0.0.1',
    })
    const c = new UnlConnector({ unl, identity, heartbeatInterval, heartbeatTimeout: 100 })
    c.acceptOn(server)
    cleanups.push(() => {
      c.close()
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(resolve))
    })
    return c
  }

  it('a peer that stops reading is closed with ERR_KEEPALIVE_TIMEOUT; an answering one is kept', async () => {
    const a = await connector(100)
    const frozen = await connector(0) // no keep-alive of its own
    const arrived = once(frozen, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const con = await a.connect(frozen.unl, { timeout: WAIT })
    const [incoming] = (await arrived) as [IncomingConnection]
    incoming.connection.socket.pause() // frozen: the kernel holds the bytes, nobody answers
    const info = await con.closed
    expect(info.error).toMatchObject({ code: 'ERR_KEEPALIVE_TIMEOUT' })
    expect(() => con.sendLine('x')).toThrow(expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }))
  })
})
