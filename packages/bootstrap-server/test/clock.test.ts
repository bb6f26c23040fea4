/**
 * Everything that expires or rate-limits, on a manual clock: the test moves time with `advance()` and
 * runs a sweep with `server.sweep()`; nothing waits for wall-clock time. The sweep timer is set to an
 * hour so every sweep here is the test's own (a timer sweep would decide the same on the same clock).
 */
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { RelayClient } from '@pyp2p/dht-msg'
import { type Clock, type ManualClock, manualClock } from '@pyp2p/limits'
import { afterEach, describe, expect, it } from 'vitest'
import { BootstrapServer, BootstrapServerError, type BootstrapServerOptions } from '../src/index.js'
import { nodeId, startServer, TestClient, until, WAIT_MS } from './helpers.js'

const HOUR = 60 * 60 * 1000
let server: BootstrapServer | undefined
let port: number
let clock: ManualClock
const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
  await server?.close()
  server = undefined
})

async function start(options: BootstrapServerOptions = {}): Promise<BootstrapServer> {
  clock = manualClock(1_000_000)
  const started = await startServer({ clock, sweepIntervalMs: HOUR, ...options })
  ;({ server, port } = started)
  return started.server
}

async function client(localAddress?: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  cleanups.push(() => c.close())
  return c
}

/** Moves the clock and runs one sweep. */
function advance(ms: number): void {
  clock.advance(ms)
  server?.sweep()
}

describe('on a manual clock', () => {
  it('closes a connection idle for exactly idleTimeoutMs; a line restarts its idle time', async () => {
    const s = await start({ idleTimeoutMs: 1_000 })
    const idle = await client()
    const slow = connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    cleanups.push(() => slow.destroy())
    slow.on('error', () => {})
    await once(slow, 'data', { signal: AbortSignal.timeout(WAIT_MS) })
    slow.write('PASSIVE READY') // never a whole line: does not count as activity
    const slowClosed = once(slow, 'close')
    const sim = await client()
    expect((await sim.request(`SIMULTANEOUS READY 9 1 ${nodeId(5)}`)).type).toBe('OK')
    advance(999)
    // Not closed: an ERROR ERR_IDLE_TIMEOUT would come before this PONG.
    expect(await idle.request('PING a')).toEqual({ type: 'PONG', token: 'a' })
    advance(1)
    await slowClosed
    expect(await idle.request('PING b')).toEqual({ type: 'PONG', token: 'b' })
    advance(999)
    expect(await idle.request('PING c')).toEqual({ type: 'PONG', token: 'c' })
    advance(1_000)
    expect(await idle.next()).toMatchObject({ type: 'ERROR', code: 'ERR_IDLE_TIMEOUT' })
    expect(await idle.closed()).toBe('peer')
    // A simultaneous node is exempt however long it is quiet.
    advance(HOUR)
    expect(await sim.request('PING still')).toEqual({ type: 'PONG', token: 'still' })
    expect(s.stats()).toMatchObject({ connections: 1, simultaneousNodes: 1 })
  })

  it('expires registrations at exactly nodeLifetimeMs; a simultaneous node is told and closed', async () => {
    const s = await start({ nodeLifetimeMs: 10_000 })
    const p = await client()
    expect(await p.request(`PASSIVE READY 80 1 ${nodeId(1)}`)).toEqual({ type: 'OK', what: 'PASSIVE' })
    p.close()
    advance(5_000)
    const sim = await client()
    expect((await sim.request(`SIMULTANEOUS READY 81 1 ${nodeId(2)}`)).type).toBe('OK')
    advance(4_999)
    expect(s.stats()).toMatchObject({ nodes: 2, passiveNodes: 1 })
    advance(1)
    expect(s.stats()).toMatchObject({ nodes: 1, passiveNodes: 0, simultaneousNodes: 1 })
    expect(await sim.request('BOOTSTRAP 5')).toEqual({ type: 'NODES', nodes: [] })
    advance(4_999)
    expect(await sim.request('PING alive')).toEqual({ type: 'PONG', token: 'alive' })
    advance(1)
    expect(await sim.next()).toMatchObject({ type: 'ERROR', code: 'ERR_NODE_EXPIRED' })
    expect(await sim.closed()).toBe('peer')
    expect(s.stats().nodes).toBe(0)
  })

  it('times a challenge out at exactly challengeTimeoutMs, on both sides', async () => {
    const s = await start({ challengeTimeoutMs: 5_000 })
    const b = await client('127.0.0.2')
    expect((await b.request(`SIMULTANEOUS READY 7000 4 ${nodeId(0xb)}`)).type).toBe('OK')
    const a = await client('127.0.0.3')
    const set = await a.request(`CANDIDATE ${nodeId(0xb)} ${nodeId(0xa)} TCP 40001`)
    if (set.type !== 'PREDICTION_SET') throw new Error(`expected PREDICTION SET, got ${set.type}`)
    expect(await b.next()).toMatchObject({ type: 'CHALLENGE', punchId: set.punchId })
    advance(4_999)
    expect(s.stats().pendingPunches).toBe(1)
    advance(1)
    expect(s.stats().pendingPunches).toBe(0)
    expect(await a.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PUNCH_TIMEOUT', punchId: set.punchId })
    expect(await b.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PUNCH_TIMEOUT', punchId: set.punchId })
  })

  it('refills the flood limit at lineRate: a burst of lineBurst, then lineRate lines per second', async () => {
    await start({ lineRate: 2, lineBurst: 3 })
    const c = await client()
    const d = await client()
    for (const x of [c, d]) {
      x.con.socket.write('PING 1\r\nPING 2\r\nPING 3\r\n')
      for (const token of ['1', '2', '3']) expect(await x.next()).toEqual({ type: 'PONG', token })
    }
    advance(499) // 0.998 of a token back: not enough
    expect(await d.request('PING 4')).toMatchObject({ type: 'ERROR', code: 'ERR_FLOOD' })
    expect(await d.closed()).toBe('peer')
    advance(501) // two tokens back in 1 s, not three
    c.con.socket.write('PING 4\r\nPING 5\r\nPING 6\r\n')
    expect(await c.next()).toEqual({ type: 'PONG', token: '4' })
    expect(await c.next()).toEqual({ type: 'PONG', token: '5' })
    expect(await c.next()).toMatchObject({ type: 'ERROR', code: 'ERR_FLOOD' })
    expect(await c.closed()).toBe('peer')
  })

  it('rate-limits CHECK per IP: checkBurst, then one per checkIntervalMs', async () => {
    const s = await start({ checkBurst: 1, checkIntervalMs: 10_000 })
    const l = await listener()
    const c = await client()
    expect(await c.request(`CHECK TCP ${l} a`)).toMatchObject({ type: 'REACHABLE', reachable: true })
    expect(await c.request(`CHECK TCP ${l} b`)).toMatchObject({ type: 'ERROR', code: 'ERR_RATE_LIMITED' })
    advance(9_999)
    expect(await c.request(`CHECK TCP ${l} c`)).toMatchObject({ type: 'ERROR', code: 'ERR_RATE_LIMITED' })
    advance(1)
    expect(await c.request(`CHECK TCP ${l} d`)).toMatchObject({ type: 'REACHABLE', reachable: true })
    await until(() => s.stats().pendingChecks === 0, 'no check running')
  })

  it('drives the embedded relay too: a queued message expires after messageTtl', async () => {
    const s = await start({ relay: { messageTtl: 2_000 } })
    const alice = await RelayClient.connect({ host: '127.0.0.1', port, signal: AbortSignal.timeout(WAIT_MS) })
    cleanups.push(() => alice.close())
    await alice.send(nodeId(0xbeef), 'nobody is there yet')
    expect(s.stats().relayQueued).toBe(1)
    clock.advance(1_999)
    s.relay?.sweep()
    expect(s.stats().relayQueued).toBe(1)
    clock.advance(1)
    s.relay?.sweep()
    expect(s.stats().relayQueued).toBe(0)
  })

  it('refuses a clock without now()', () => {
    const bad = { now: 5 } as unknown as Clock
    let error: unknown
    try {
      new BootstrapServer({ clock: bad })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(BootstrapServerError)
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', message: /option clock must be/ })
  })
})

/** A listener on 127.0.0.1 that takes connections and lets them close; returns its port. */
async function listener(): Promise<number> {
  const srv: Server = createServer((sock: Socket) => {
    sock.on('error', () => {})
    sock.resume()
    sock.on('end', () => sock.end())
  })
  cleanups.push(() => new Promise((resolve) => srv.close(resolve)))
  srv.listen({ host: '127.0.0.1', port: 0 })
  await once(srv, 'listening', { signal: AbortSignal.timeout(WAIT_MS) })
  return (srv.address() as { port: number }).port
}
