// RendezvousSession against real @pyp2p/bootstrap-servers on loopback. Back-off and keep-alive run on
// an injected timer queue the test fires by hand: nothing here sleeps or reads the wall clock.
import { once } from 'node:events'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it } from 'vitest'
import {
  RendezvousSession,
  type RendezvousSessionOptions,
  SESSION_KEEPALIVE_MS,
  SESSION_RETRY_MAX_MS,
  SESSION_RETRY_MIN_MS,
  type SessionTimers,
} from '../src/index.js'
import { ManualTimers } from './fixtures/manual-timers.js'

const WAIT = 10_000
// The session signs with the node's key: these servers require proof of ownership (the default).
const ME = NodeIdentity.generate()
const A = ME.nodeId
const B = NodeIdentity.generate()
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function server(
  port = 0,
  extra: ConstructorParameters<typeof BootstrapServer>[0] = {},
): Promise<{ server: BootstrapServer; address: { host: string; port: number } }> {
  const s = new BootstrapServer({ ...extra, host: '127.0.0.1', port })
  const info = await s.listen()
  cleanups.push(() => s.close())
  return { server: s, address: { host: '127.0.0.1', port: info.port } }
}

function session(
  servers: { host: string; port: number }[],
  timers: SessionTimers,
  extra: Partial<RendezvousSessionOptions> = {},
): RendezvousSession {
  const s = new RendezvousSession({
    servers,
    nodeId: A,
    identity: ME,
    timers,
    keepAliveMs: 1_000,
    retryMinMs: 100,
    retryMaxMs: 400,
    // no jitter unless a test asks for it: every delay is known
    random: () => 0,
    ...extra,
  })
  cleanups.push(() => s.close())
  return s
}

describe('RendezvousSession', () => {
  it('tries the servers in order and uses the first that answers', async () => {
    const dead = await server()
    await dead.server.close()
    const live = await server()
    const s = session([dead.address, live.address], new ManualTimers())
    const clients = once(s, 'client', { signal: AbortSignal.timeout(WAIT) })
    await s.open()
    expect(s.server).toEqual(live.address)
    expect((await clients)[1]).toEqual(live.address)
    await expect(session([dead.address], new ManualTimers()).open()).rejects.toMatchObject({
      code: 'ERR_SERVER_UNREACHABLE',
    })
  })

  it('pings on the keep-alive timer and answers nothing else by itself', async () => {
    const { server: srv, address } = await server()
    const timers = new ManualTimers()
    const s = session([address], timers)
    await s.open()
    expect(timers.delays()).toEqual([1_000])
    timers.fire(1_000) // sends PING k1 and re-arms
    expect(timers.delays()).toEqual([1_000])
    // the reply is matched: a BOOTSTRAP behind it gets its own
    expect(await s.bootstrap(5)).toEqual([])
    expect(srv.stats().connections).toBe(1)
  })

  it('registers again by itself on a new connection after a drop, backing off, then leaves cleanly', async () => {
    const first = await server()
    const timers = new ManualTimers()
    const s = session([first.address], timers)
    await s.register('passive', 5001, 3)
    expect(first.server.nodes.get(A)).toBeDefined()
    // the server goes away: the session says so and waits the first back-off
    const dropped = once(s, 'unregistered', { signal: AbortSignal.timeout(WAIT) })
    await first.server.close()
    await dropped
    expect(s.isRegistered).toBe(false)
    expect(timers.delays()).toContain(100)
    // nobody there yet: the attempt fails, the delay doubles
    const failed = once(s, 'retry-failed', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(100)
    expect((await failed)[0]).toMatchObject({ error: { code: 'ERR_SERVER_UNREACHABLE' }, delayMs: 200 })
    expect(timers.delays()).toContain(200)
    // the server is back on the same port: the next attempt registers again, same node, same port
    const second = await server(first.address.port)
    const registered = once(s, 'registered', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(200)
    expect((await registered)[0]).toMatchObject({ kind: 'passive', port: 5001, maxInbound: 3 })
    expect(s.isRegistered).toBe(true)
    expect(second.server.nodes.get(A)).toMatchObject({ port: 5001 })
    // leave: CLEAR with the token, QUIT; the server forgets us and no timer is left
    await s.leave()
    expect(second.server.nodes.get(A)).toBeUndefined()
    expect(timers.delays()).toEqual([])
    expect(s.isClosed).toBe(true)
  })

  it('leave() clears a registration that outlived its connection, on a new connection', async () => {
    const { server: srv, address } = await server()
    const timers = new ManualTimers()
    const s = session([address], timers)
    await s.register('passive', 5002, 1)
    const dropped = once(s, 'unregistered', { signal: AbortSignal.timeout(WAIT) })
    s.client?.close() // our side drops; the server keeps the passive registration for now
    await dropped
    expect(srv.nodes.get(A)).toBeDefined()
    await s.leave()
    expect(srv.nodes.get(A)).toBeUndefined()
    expect(timers.delays()).toEqual([])
  })

  it('does not reconnect without a registration, and close() is final', async () => {
    const { server: srv, address } = await server()
    const timers = new ManualTimers()
    const s = session([address], timers)
    const client = await s.open()
    client.close()
    await client.connection.closed
    expect(timers.delays()).toEqual([])
    s.close()
    s.close()
    await expect(s.open()).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(srv.stats().connections).toBeLessThanOrEqual(1)
  })
})

describe('RendezvousSession healing (issue 19)', () => {
  it('jitters each reconnect delay within [d/2, d], never past retryMaxMs, and resets once registered', async () => {
    const first = await server()
    const timers = new ManualTimers()
    let t = 0
    const randoms = [0.999, 0.5, 0, 0.999, 0.25, 0.5]
    const s = session([first.address], timers, {
      retryMinMs: 100,
      retryMaxMs: 800,
      retryJitter: 0.5,
      random: () => randoms.shift() ?? 0,
      now: () => t,
    })
    await s.register('passive', 5003, 1)
    const lost = once(s, 'server:lost', { signal: AbortSignal.timeout(WAIT) })
    await first.server.close()
    expect((await lost)[0]).toMatchObject({ server: `127.0.0.1:${first.address.port}` })
    // bases 100, 200, 400, 800, 800 with jitter 0.999, 0.5, 0, 0.999, 0.25 taken off half of each
    const expected = [50, 150, 400, 400, 700]
    for (const delay of expected) {
      const pending = timers.delays().filter((d) => d < 1_000)
      expect(pending).toEqual([delay])
      const failed = once(s, 'retry-failed', { signal: AbortSignal.timeout(WAIT) })
      t += delay
      timers.fire(delay)
      await failed
    }
    // the server returns on its port: the next attempt (base 800, jitter 0.5 → 600) registers again
    expect(timers.delays().filter((d) => d < 1_000)).toEqual([600])
    const second = await server(first.address.port)
    const restored = once(s, 'server:restored', { signal: AbortSignal.timeout(WAIT) })
    t += 600
    timers.fire(600)
    expect((await restored)[0]).toMatchObject({
      server: `127.0.0.1:${first.address.port}`,
      previous: `127.0.0.1:${first.address.port}`,
      downMs: 50 + 150 + 400 + 400 + 700 + 600,
    })
    expect(second.server.nodes.get(A)).toMatchObject({ port: 5003 })
    // success resets the back-off: the next loss starts from 100 again (jitter source now gives 0)
    const lostAgain = once(s, 'server:lost', { signal: AbortSignal.timeout(WAIT) })
    s.client?.close()
    await lostAgain
    expect(timers.delays().filter((d) => d < 1_000)).toEqual([100])
  })

  it('with the defaults, no reconnect delay exceeds SESSION_RETRY_MAX_MS (4 s): listed within 5 s of a return', async () => {
    const { server: srv, address } = await server()
    const timers = new ManualTimers()
    const s = new RendezvousSession({ servers: [address], nodeId: A, identity: ME, timers, random: () => 0 })
    cleanups.push(() => s.close())
    await s.register('passive', 5006, 1)
    const lost = once(s, 'server:lost', { signal: AbortSignal.timeout(WAIT) })
    await srv.close()
    await lost
    // a long outage: 12 failed attempts, past the point where the delay stops doubling
    const seen: number[] = []
    for (let i = 0; i < 12; i++) {
      const [delay] = timers.delays().filter((d) => d < SESSION_KEEPALIVE_MS)
      seen.push(delay!)
      const failed = once(s, 'retry-failed', { signal: AbortSignal.timeout(WAIT) })
      timers.fire(delay!)
      await failed
    }
    expect(SESSION_RETRY_MAX_MS).toBeLessThan(5_000)
    expect(Math.max(...seen)).toBe(SESSION_RETRY_MAX_MS)
    expect(seen.slice(0, 4)).toEqual([SESSION_RETRY_MIN_MS, 200, 400, 800])
  })

  it('fails over to the next server, probes the preferred one and moves back (CLEAR on the fallback)', async () => {
    const preferred = await server()
    const fallback = await server()
    const timers = new ManualTimers()
    const s = session([preferred.address, fallback.address], timers, { preferredProbeMs: 700 })
    const P = `127.0.0.1:${preferred.address.port}`
    const F = `127.0.0.1:${fallback.address.port}`
    await s.register('passive', 5004, 2)
    expect(s.server).toEqual(preferred.address)
    expect(timers.delays()).not.toContain(700) // on the preferred server: no probe
    const lost = once(s, 'server:lost', { signal: AbortSignal.timeout(WAIT) })
    await preferred.server.close()
    await lost
    // the retry tries the preferred server first (refused), then the fallback
    const failover = once(s, 'server:failover', { signal: AbortSignal.timeout(WAIT) })
    const restored = once(s, 'server:restored', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(100)
    expect((await failover)[0]).toMatchObject({ from: P, to: F, preferred: false })
    expect((await restored)[0]).toMatchObject({ server: F, previous: P })
    expect(s.server).toEqual(fallback.address)
    expect(fallback.server.nodes.get(A)).toMatchObject({ port: 5004 })
    // on the fallback: the preferred server is probed; still down → probed again later
    expect(timers.delays()).toContain(700)
    const rearmed = new Promise<void>((resolve) => {
      const original = timers.setTimeout.bind(timers)
      timers.setTimeout = (fn, ms) => {
        if (ms === 700) {
          timers.setTimeout = original
          queueMicrotask(resolve)
        }
        return original(fn, ms)
      }
    })
    timers.fire(700)
    await rearmed
    expect(s.server).toEqual(fallback.address)
    // the preferred server is back on its port: the next probe moves the node there
    const back = await server(preferred.address.port)
    const moved = once(s, 'server:failover', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(700)
    expect((await moved)[0]).toMatchObject({
      from: F,
      to: P,
      preferred: true,
      reason: 'preferred server is back',
    })
    expect(s.server).toEqual(preferred.address)
    expect(back.server.nodes.get(A)).toMatchObject({ port: 5004 })
    expect(fallback.server.nodes.get(A)).toBeUndefined() // cleared there, not left for its lifetime
    expect(timers.delays()).not.toContain(700)
    await s.leave()
    expect(back.server.nodes.get(A)).toBeUndefined()
  })

  it('an open session without a registration also moves back to the preferred server once it answers', async () => {
    const preferred = await server()
    await preferred.server.close() // down when the session opens: it connects to the fallback
    const fallback = await server()
    const timers = new ManualTimers()
    const s = session([preferred.address, fallback.address], timers, { preferredProbeMs: 700 })
    await s.open()
    expect(s.server).toEqual(fallback.address)
    expect(timers.delays()).toContain(700) // on a fallback: the preferred server is probed
    await server(preferred.address.port)
    const moved = once(s, 'server:failover', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(700)
    expect((await moved)[0]).toMatchObject({
      from: `127.0.0.1:${fallback.address.port}`,
      to: `127.0.0.1:${preferred.address.port}`,
      preferred: true,
    })
    expect(s.server).toEqual(preferred.address)
    expect(s.registration).toBeUndefined()
    s.close()
  })

  it('re-advertises before the registration expires at the server (fake clock on both sides)', async () => {
    let now = 0
    const clock = { now: () => now }
    const lifetime = 60_000
    const { server: srv, address } = await server(0, { clock, nodeLifetimeMs: lifetime })
    const timers = new ManualTimers()
    const s = session([address], timers, { registrationLifetimeMs: lifetime })
    await s.register('passive', 5005, 1)
    // the refresh is due at half the lifetime (pyp2p: every 12 h of 24)
    expect(timers.delays()).toContain(lifetime / 2)
    now += lifetime / 2
    const refreshed = once(s, 'registered', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(lifetime / 2)
    expect((await refreshed)[0]).toMatchObject({ reason: 'refresh', port: 5005 })
    expect(srv.nodes.get(A)?.registeredAt).toBe(lifetime / 2)
    // past the first registration's lifetime, the entry is still there; the next refresh is armed
    now += lifetime / 2 + 1
    srv.sweep()
    expect(srv.nodes.get(A)).toBeDefined()
    expect(
      await new RendezvousSession({ servers: [address], nodeId: B.nodeId, identity: B }).bootstrap(5),
    ).toEqual([expect.objectContaining({ nodeId: A })])
    expect(timers.delays()).toContain(lifetime / 2)
    // without refreshes it would have gone: a node that stops (close without leave) expires
    s.close()
    now += lifetime
    srv.sweep()
    expect(srv.nodes.get(A)).toBeUndefined()
  })

  it('counts an unanswered keep-alive PING as a lost server', async () => {
    // a server that greets and then never answers (a cut link looks like this to the client)
    const sockets: Socket[] = []
    const mute = createServer((socket) => {
      sockets.push(socket)
      socket.write('HELLO PYP2P/1 127.0.0.1 1\r\n')
    })
    mute.listen(0, '127.0.0.1')
    await once(mute, 'listening')
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => mute.close(resolve))
    })
    const port = (mute.address() as AddressInfo).port
    const timers = new ManualTimers()
    const s = session([{ host: '127.0.0.1', port }], timers, { replyTimeout: 50 })
    await s.open()
    const lost = once(s, 'server:lost', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(1_000)
    expect((await lost)[0]).toMatchObject({ reason: expect.stringMatching(/keep-alive PING unanswered/) })
    expect(s.client).toBeUndefined()
  })
})
