// RendezvousSession against real @pyp2p/bootstrap-servers on loopback. Back-off and keep-alive run on
// an injected timer queue the test fires by hand: nothing here sleeps or reads the wall clock.
import { once } from 'node:events'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it } from 'vitest'
import { RendezvousSession, type SessionTimers } from '../src/index.js'

const WAIT = 10_000
// The session signs with the node's key: these servers require proof of ownership (the default).
const ME = NodeIdentity.generate()
const A = ME.nodeId
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/** Timers that run only when the test says so. */
class ManualTimers implements SessionTimers {
  readonly queue = new Map<number, { fn: () => void; ms: number }>()
  #next = 1
  setTimeout(fn: () => void, ms: number): number {
    const id = this.#next++
    this.queue.set(id, { fn, ms })
    return id
  }
  clearTimeout(handle: unknown): void {
    this.queue.delete(handle as number)
  }
  /** Delays of the timers waiting now. */
  delays(): number[] {
    return [...this.queue.values()].map((t) => t.ms)
  }
  /** Fires the waiting timer of `ms`. */
  fire(ms: number): void {
    for (const [id, t] of this.queue) {
      if (t.ms !== ms) continue
      this.queue.delete(id)
      t.fn()
      return
    }
    throw new Error(`no timer of ${ms} ms (waiting: ${this.delays().join(', ')})`)
  }
}

async function server(
  port = 0,
): Promise<{ server: BootstrapServer; address: { host: string; port: number } }> {
  const s = new BootstrapServer({ host: '127.0.0.1', port })
  const info = await s.listen()
  cleanups.push(() => s.close())
  return { server: s, address: { host: '127.0.0.1', port: info.port } }
}

function session(servers: { host: string; port: number }[], timers: SessionTimers): RendezvousSession {
  const s = new RendezvousSession({
    servers,
    nodeId: A,
    identity: ME,
    timers,
    keepAliveMs: 1_000,
    retryMinMs: 100,
    retryMaxMs: 400,
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
