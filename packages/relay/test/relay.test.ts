import { once } from 'node:events'
import { connect } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { manualClock } from '@pyp2p/limits'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { CircuitReservation, circuitEndError, dialCircuit, type IncomingCircuit } from '../src/index.js'
import { type Harness, rawReservation, readAll, readBytes, reserve, startRelay, ZERO_ID } from './helpers.js'

let h: Harness | undefined
const open: CircuitReservation[] = []
afterEach(async () => {
  for (const r of open.splice(0)) r.close()
  await h?.close()
  h = undefined
})

async function reserved(port: number, identity?: NodeIdentity): Promise<CircuitReservation> {
  const r = await reserve(port, identity)
  open.push(r)
  return r
}

const dial = (port: number, target: string) =>
  dialCircuit({ host: '127.0.0.1', port, target, nodeId: ZERO_ID })

describe('circuit relay', () => {
  it('splices a dialler and a reserved target: bytes both ways, limits told to both ends', async () => {
    h = await startRelay()
    const bob = await reserved(h.port)
    expect(bob.limits).toEqual({ maxBytes: 8 * 1024 * 1024, maxDurationMs: 30 * 60_000 })
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dial(h.port, bob.nodeId)
    const [b] = await incoming
    expect(b.circuitId).toBe(a.circuitId)
    expect(b.dialler).toBe(ZERO_ID)
    expect(a.limits).toEqual(bob.limits)
    a.socket.write('ping from a')
    expect(String(await readBytes(b.socket, 11))).toBe('ping from a')
    b.socket.write('pong from b')
    expect(String(await readBytes(a.socket, 11))).toBe('pong from b')
    expect(h.relay.stats).toMatchObject({ reservations: 1, open: 1, pending: 0 })
    const ended = once(h.relay, 'end')
    a.socket.end()
    expect((await ended)[0]).toMatchObject({ reason: 'closed', bytes: [11, 11] })
    expect(h.relay.stats).toMatchObject({ open: 0, pending: 0 })
  })

  it('a target without a reservation: ERR_NO_RESERVATION, nothing held', async () => {
    h = await startRelay()
    await expect(dial(h.port, 'ab'.repeat(20))).rejects.toMatchObject({ code: 'ERR_NO_RESERVATION' })
    expect(h.relay.stats).toMatchObject({ pending: 0, open: 0, refused: { ERR_NO_RESERVATION: 1 } })
  })

  it('a reservation whose signature does not prove the node id is refused', async () => {
    h = await startRelay()
    const me = NodeIdentity.generate()
    const other = NodeIdentity.generate()
    const con = new LineSocket(connect({ host: '127.0.0.1', port: h.port }))
    expect(await con.readLine()).toMatch(/^HELLO PYP2P-CIRCUIT\/1 /)
    con.sendLine(`CIRCUIT RESERVE ${me.nodeId}`)
    const nonce = (await con.readLine()).split(' ')[2]!
    const sig = other.sign('pyp2p-circuit-reserve/1', [nonce, me.nodeId]).toString('base64url')
    con.sendLine(`CIRCUIT PROVE ${other.publicKey} ${sig}`)
    expect(await con.readLine()).toMatch(/^ERROR ERR_AUTH_FAILED /)
    await con.closed
    expect(h.relay.stats.reservations).toBe(0)
  })

  it('a newer reservation of the same node replaces the older one', async () => {
    h = await startRelay()
    const id = NodeIdentity.generate()
    const first = await reserved(h.port, id)
    first.close = first.close.bind(first)
    const warned = once(first, 'disconnected')
    await reserved(h.port, id)
    await warned
    expect(h.relay.stats.reservations).toBe(1)
  })

  it('circuits per dialler IP, per target and in all are bounded: typed refusals past the limit', async () => {
    h = await startRelay({ maxCircuitsPerIp: 2 })
    const bob = await reserved(h.port)
    bob.on('incoming', () => {})
    await dial(h.port, bob.nodeId)
    await dial(h.port, bob.nodeId)
    await expect(dial(h.port, bob.nodeId)).rejects.toMatchObject({
      code: 'ERR_RELAY_FULL',
      message: expect.stringMatching(/circuits per IP/),
    })
  })

  it('a circuit past its byte limit: exactly the limit arrives, both ends close, the target hears why', async () => {
    h = await startRelay({ maxCircuitBytes: 1000 })
    const bob = await reserved(h.port)
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dial(h.port, bob.nodeId)
    const [b] = await incoming
    const told = once(bob, 'end')
    const received = readAll(b.socket)
    a.socket.write(Buffer.alloc(2500, 7))
    expect((await received).length).toBe(1000)
    expect((await told)[0]).toEqual({ circuitId: a.circuitId, reason: 'bytes' })
    expect(circuitEndError(b, 0)).toMatchObject({ code: 'ERR_CIRCUIT_LIMIT', message: /^bytes/ })
    expect(circuitEndError(a, 0)).toMatchObject({ code: 'ERR_CIRCUIT_LIMIT', message: /^bytes/ })
  })

  it('a circuit past its duration is ended by the sweep (injected clock, no waiting)', async () => {
    const clock = manualClock(1_000)
    h = await startRelay({ maxCircuitDuration: 60_000, clock })
    const bob = await reserved(h.port)
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dial(h.port, bob.nodeId)
    const [b] = await incoming
    const told = once(bob, 'end')
    clock.advance(59_999)
    h.relay.sweep()
    expect(h.relay.stats.open).toBe(1)
    clock.advance(1)
    h.relay.sweep()
    expect((await told)[0]).toMatchObject({ reason: 'duration' })
    await Promise.all([readAll(a.socket), readAll(b.socket)])
    expect(circuitEndError(a, 60_000)).toMatchObject({ code: 'ERR_CIRCUIT_LIMIT', message: /^duration/ })
  })

  it('a target that never accepts: the dialler gets ERR_ACCEPT_TIMEOUT, nothing held', async () => {
    const clock = manualClock()
    h = await startRelay({ clock })
    const bob = await rawReservation(h.port)
    const dialled = dial(h.port, bob.nodeId)
    expect(await bob.con.readLine()).toMatch(/^CIRCUIT INCOMING [0-9a-f]+ 0{40} 127\.0\.0\.1$/)
    expect(h.relay.stats.pending).toBe(1)
    clock.advance(10_000)
    h.relay.sweep()
    await expect(dialled).rejects.toMatchObject({ code: 'ERR_ACCEPT_TIMEOUT' })
    expect(h.relay.stats).toMatchObject({ pending: 0, open: 0 })
    bob.con.close()
  })

  it('a reader that never reads: the relay pauses the sender and holds a bounded buffer, then delivers all in order', async () => {
    h = await startRelay({ maxCircuitBuffer: 64 * 1024 })
    const bob = await reserved(h.port)
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dial(h.port, bob.nodeId)
    const [b] = await incoming
    const total = 6 * 1024 * 1024 // under the 8 MiB byte limit
    const data = Buffer.alloc(total)
    for (let i = 0; i < total; i += 4) data.writeUInt32BE(i / 4, i)
    const paused = once(h.relay, 'backpressure')
    a.socket.write(data)
    const [{ buffered }] = (await paused) as [{ buffered: number }]
    // Held at the relay: at most the buffer plus one socket read.
    expect(buffered).toBeLessThanOrEqual(64 * 1024 + 64 * 1024)
    const got = await readBytes(b.socket, total)
    expect(got.equals(data)).toBe(true)
  })

  it('a relay that dies mid-circuit: both ends see the close; the reservation heals when it is back', async () => {
    h = await startRelay()
    const port = h.port
    const bob = await reserved(port)
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dial(port, bob.nodeId)
    const [b] = await incoming
    const dropped = once(bob, 'disconnected')
    await h.close()
    await Promise.all([readAll(a.socket), readAll(b.socket), dropped])
    expect(bob.state).not.toBe('reserved')
    // Back on the same port: the reservation comes back by itself, and circuits work again.
    const again = once(bob, 'reserved')
    h = await startRelay({}, port)
    await again
    expect(bob.state).toBe('reserved')
    const incoming2 = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a2 = await dial(port, bob.nodeId)
    const [b2] = await incoming2
    a2.socket.write('again')
    expect(String(await readBytes(b2.socket, 5))).toBe('again')
  })

  it('closed by a state listener while it backs off: it stays closed (no reconnect timer fires)', async () => {
    h = await startRelay()
    const bob = await reserved(h.port)
    const states: string[] = []
    bob.on('state', (state) => {
      states.push(state)
      if (state === 'backing-off') bob.close()
    })
    // Only timers are faked (sockets stay real): the reconnect timer can be run at once.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const closed = once(bob, 'close')
      await h.close()
      await closed
      vi.advanceTimersByTime(60_000)
    } finally {
      vi.useRealTimers()
    }
    expect(states).toEqual(['backing-off', 'closed'])
    expect(bob.state).toBe('closed')
  })

  it('opened with an already-aborted signal: rejects without reserving', async () => {
    h = await startRelay()
    const opening = CircuitReservation.open({
      host: '127.0.0.1',
      port: h.port,
      identity: NodeIdentity.generate(),
      signal: AbortSignal.abort(),
    })
    await expect(opening).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    expect(h.relay.stats.reservations).toBe(0)
  })

  it('its signal bounds open() only: aborted after the grant, the reservation stays', async () => {
    h = await startRelay()
    const opened = new AbortController()
    const bob = await CircuitReservation.open({
      host: '127.0.0.1',
      port: h.port,
      identity: NodeIdentity.generate(),
      signal: opened.signal,
    })
    opened.abort()
    expect(bob.state).toBe('reserved')
    expect(h.relay.stats.reservations).toBe(1)
    bob.close()
  })
})
