/**
 * Fair limits on loopback (127.0.x.0/24 are distinct prefixes and the server exempts none): the
 * eviction order, the typed refusals and evictions, the handshake timeout on a manual clock, the
 * per-prefix limits of nodes, punches and dial-backs, and the counts in `stats()` and the JSON log.
 * The eviction policy itself is tested as a pure function first.
 */
import { connectLine, type LineSocket } from '@pyp2p/framing'
import { manualClock } from '@pyp2p/limits'
import { MAX_SERVER_LINE_LENGTH } from '@pyp2p/rendezvous-protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { type EvictionCandidate, pickEvictionVictim } from '../src/eviction-policy.js'
import { type BootstrapServer, createStreamLogger } from '../src/index.js'
import { nodeId, startServer, TestClient, until, WAIT_MS } from './helpers.js'

let server: BootstrapServer
let port: number
const open: { close(): void }[] = []

afterEach(async () => {
  for (const c of open.splice(0)) c.close()
  await server?.close()
})

async function client(localAddress: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  open.push(c)
  return c
}

/** A raw line connection: the first line is HELLO, or the refusal. */
async function raw(localAddress: string): Promise<{ con: LineSocket; first: string }> {
  const con = await connectLine({
    host: '127.0.0.1',
    port,
    localAddress,
    maxLineLength: MAX_SERVER_LINE_LENGTH,
  })
  open.push(con)
  return { con, first: await con.readLine({ timeout: WAIT_MS }) }
}

/** The next line that is not a PING. */
async function nextError(c: TestClient): Promise<string> {
  for (;;) {
    const line = await c.line()
    if (!line.startsWith('PING ')) return line
  }
}

describe('eviction policy (pure)', () => {
  const c = (over: Partial<EvictionCandidate>): EvictionCandidate => ({
    nodes: undefined,
    simultaneous: 0,
    punchCount: 0,
    held: false,
    closing: false,
    lastSeen: 0,
    ...over,
  })

  it('takes a bare connection first (silent longest), then passive-only, then the youngest held one', () => {
    const oldSim = c({ nodes: ['a'], simultaneous: 1, lastSeen: 1 })
    const youngSim = c({ nodes: ['b'], simultaneous: 1, lastSeen: 2 })
    const relay = c({ held: true, lastSeen: 0 })
    const passive = c({ nodes: ['c'], lastSeen: 50 })
    const passiveOlder = c({ nodes: ['d'], lastSeen: 40 })
    const bare = c({ lastSeen: 30 })
    const bareOlder = c({ lastSeen: 20 })
    const closing = c({ lastSeen: 0, closing: true })
    const all = [oldSim, youngSim, relay, passive, passiveOlder, bare, bareOlder, closing]
    const set = new Set(all)
    const order: EvictionCandidate[] = []
    for (let v = pickEvictionVictim(set); v !== undefined; v = pickEvictionVictim(set)) {
      order.push(v)
      set.delete(v)
    }
    // Held ones go youngest (last added) first: relay, then youngSim, and the longest-lived last.
    expect(order).toEqual([bareOlder, bare, passiveOlder, passive, relay, youngSim, oldSim])
  })

  it('a punch in flight protects like a registration', () => {
    const inPunch = c({ punchCount: 1, lastSeen: 0 })
    const bare = c({ lastSeen: 100 })
    expect(pickEvictionVictim(new Set([inPunch, bare]))).toBe(bare)
    expect(pickEvictionVictim(new Set([c({ closing: true })]))).toBeUndefined()
  })
})

describe('fair connection table', () => {
  it('when full, newcomers from other prefixes evict in policy order; then a balanced table refuses', async () => {
    ;({ server, port } = await startServer({ maxConnections: 5, maxConnectionsPerPrefix: 10 }))
    const a = await client('127.0.1.1')
    expect(await a.request(`SIMULTANEOUS READY 1 10 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    const a2 = await client('127.0.1.2')
    expect(await a2.request(`SIMULTANEOUS READY 1 10 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    const b = await client('127.0.1.3')
    expect(await b.request(`PASSIVE READY 1 10 ${nodeId(3)}`)).toMatchObject({ type: 'OK' })
    const bare = await client('127.0.1.4')
    await client('127.0.2.1')
    expect(server.stats()).toMatchObject({ connections: 5, prefixes: 2 })

    const e = await client('127.0.3.1') // 127.0.1/24 holds 4: its bare connection goes
    expect(await nextError(bare)).toMatch(/^ERROR ERR_EVICTED prefix=127\.0\.1\.0\/24 /)
    await client('127.0.4.1') // it holds 3: the passive-only one goes
    expect(await nextError(b)).toMatch(/^ERROR ERR_EVICTED prefix=127\.0\.1\.0\/24 /)
    await client('127.0.5.1') // it holds 2: the younger simultaneous node goes, the older stays
    expect(await nextError(a2)).toMatch(/^ERROR ERR_EVICTED /)
    const refused = await raw('127.0.6.1') // every prefix holds 1: nobody is over its share
    expect(refused.first).toMatch(/^ERROR ERR_TOO_MANY_CONNECTIONS prefix=127\.0\.6\.0\/24 share=1 /)

    expect(await a.request('BOOTSTRAP 5')).toMatchObject({ type: 'NODES' }) // the long-lived one is served
    expect(await e.request('BOOTSTRAP 5')).toMatchObject({ type: 'NODES' })
    const s = server.stats()
    expect(s.evictions).toBe(3)
    expect(s.limits).toMatchObject({ 'connections.evicted': 3, 'connections.full': 1 })
    expect(s.limitsByPrefix[0]).toEqual({ limit: 'connections.evicted', prefix: '127.0.1.0/24', count: 3 })
  })

  it('refuses past the per-prefix limit with a typed reason, counted and logged once', async () => {
    const log: string[] = []
    const logger = createStreamLogger({
      stream: { write: (l: string) => log.push(l) },
      json: true,
      level: 'warn',
    })
    ;({ server, port } = await startServer({ maxConnectionsPerPrefix: 2, maxConnectionsPerIp: 1, logger }))
    await client('127.0.1.1')
    expect((await raw('127.0.1.1')).first).toMatch(/^ERROR ERR_TOO_MANY_CONNECTIONS ip=127\.0\.1\.1 limit=1 /)
    await client('127.0.1.2')
    for (let i = 3; i < 6; i++) {
      expect((await raw(`127.0.1.${i}`)).first).toMatch(
        /^ERROR ERR_TOO_MANY_CONNECTIONS prefix=127\.0\.1\.0\/24 limit=2 /,
      )
    }
    const legit = await client('127.0.2.1')
    expect(await legit.request('BOOTSTRAP 1')).toMatchObject({ type: 'NODES' })
    expect(server.stats().limits).toEqual({ 'connections.per-ip': 1, 'connections.per-prefix': 3 })
    const lines = log.map((l) => JSON.parse(l)).filter((l) => l.msg === 'limit reached')
    expect(lines.filter((l) => l.limit === 'connections.per-prefix')).toEqual([
      expect.objectContaining({ level: 'warn', prefix: '127.0.1.0/24', hits: 1, ip: '127.0.1.3' }),
    ])
  })

  it('closes a connection that sends no line within the handshake timeout (manual clock)', async () => {
    const clock = manualClock(1_000)
    ;({ server, port } = await startServer({ clock, handshakeTimeoutMs: 5_000, idleTimeoutMs: 60_000 }))
    const silent = await raw('127.0.1.1')
    const talker = await client('127.0.1.2')
    expect(await talker.request('PING x')).toEqual({ type: 'PONG', token: 'x' })
    clock.advance(4_999)
    server.sweep()
    clock.advance(1)
    server.sweep() // past the timeout: closed at the next sweep if still silent then
    server.sweep()
    expect(await silent.con.readLine({ timeout: WAIT_MS })).toMatch(/^ERROR ERR_HANDSHAKE_TIMEOUT /)
    expect(await talker.request('PING y')).toEqual({ type: 'PONG', token: 'y' }) // not the talker
    expect(server.stats().limits['connections.handshake-timeout']).toBe(1)
  })

  it("a line that reached the server by the handshake deadline is read, not counted as late (the server's own lag)", async () => {
    const clock = manualClock(1_000)
    ;({ server, port } = await startServer({ clock, handshakeTimeoutMs: 5_000, idleTimeoutMs: 60_000 }))
    const late = await raw('127.0.1.1')
    const silent = await raw('127.0.1.2')
    // The deadline passes while the server is busy (its sweep runs before it reads its sockets): the
    // client's first line is on its way or already waiting in the server's receive queue.
    clock.advance(5_000)
    server.sweep()
    late.con.sendLine('PING in-time')
    expect(await late.con.readLine({ timeout: WAIT_MS })).toBe('PONG in-time')
    server.sweep()
    expect(await silent.con.readLine({ timeout: WAIT_MS })).toMatch(/^ERROR ERR_HANDSHAKE_TIMEOUT /)
    late.con.sendLine('PING still-open')
    expect(await late.con.readLine({ timeout: WAIT_MS })).toBe('PONG still-open')
    expect(server.stats().limits['connections.handshake-timeout']).toBe(1)
  })

  it('the embedded relay applies its own handshake timeout', async () => {
    ;({ server, port } = await startServer({ relay: { handshakeTimeout: 20 } }))
    const c = await client('127.0.1.1')
    c.send(`RELAY PYP2P-MSG/1 ${'a'.repeat(40)}`)
    expect(await c.line()).toMatch(/^CHALLENGE /)
    // No AUTH: the relay's 20 ms apply, not the server's 60 s idle timeout.
    expect(await c.line()).toMatch(/^ERROR ERR_PROTOCOL .*no authentication in time/)
    expect(await c.closed()).toBe('peer')
    await until(() => server.stats().limits['relay.handshake-timeout'] === 1, 'relay handshake count')
  })
})

describe('per-prefix limits of the other tables', () => {
  it('registered nodes', async () => {
    ;({ server, port } = await startServer({ maxNodesPerPrefix: 2 }))
    const c1 = await client('127.0.1.1')
    const c2 = await client('127.0.1.2')
    expect(await c1.request(`PASSIVE READY 1 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    expect(await c1.request(`PASSIVE READY 1 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    expect(await c2.request(`PASSIVE READY 1 1 ${nodeId(3)}`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_TOO_MANY_NODES',
      text: expect.stringContaining('prefix=127.0.1.0/24'),
    })
    const other = await client('127.0.2.1')
    expect(await other.request(`PASSIVE READY 1 1 ${nodeId(4)}`)).toMatchObject({ type: 'OK' })
    expect(server.stats().limits).toMatchObject({ 'nodes.per-prefix': 1 })
  })

  it('pending punches', async () => {
    ;({ server, port } = await startServer({ maxPunchesPerPrefix: 1 }))
    const target = await client('127.0.2.1')
    expect(await target.request(`SIMULTANEOUS READY 1 10 ${nodeId(9)}`)).toMatchObject({ type: 'OK' })
    const c1 = await client('127.0.1.1')
    const c2 = await client('127.0.1.2')
    expect(await c1.request(`CANDIDATE ${nodeId(9)} ${nodeId(1)} TCP 1000`)).toMatchObject({
      type: 'PREDICTION_SET',
    })
    // The same pair again replaces its punch: allowed (the old one ends with ERR_REPLACED).
    expect(await c1.request(`CANDIDATE ${nodeId(9)} ${nodeId(1)} TCP 1001`)).toMatchObject({
      code: 'ERR_REPLACED',
    })
    expect(await c1.next()).toMatchObject({ type: 'PREDICTION_SET' })
    expect(await c2.request(`CANDIDATE ${nodeId(9)} ${nodeId(2)} TCP 1000`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_TOO_MANY_CANDIDATES',
      text: expect.stringContaining('prefix=127.0.1.0/24 limit=1'),
    })
    expect(server.stats().limits).toMatchObject({ 'punches.per-prefix': 1 })
  })

  it('dial-back checks', async () => {
    ;({ server, port } = await startServer({ checkPrefixBurst: 1, checkBurst: 5 }))
    const c1 = await client('127.0.1.1')
    const c2 = await client('127.0.1.2')
    expect(await c1.request('CHECK TCP 1 n1')).toMatchObject({ type: 'REACHABLE' })
    expect(await c2.request('CHECK TCP 1 n2')).toMatchObject({
      type: 'ERROR',
      code: 'ERR_RATE_LIMITED',
      text: expect.stringContaining('prefix=127.0.1.0/24'),
    })
    const other = await client('127.0.2.1')
    expect(await other.request('CHECK TCP 1 n3')).toMatchObject({ type: 'REACHABLE' })
    expect(server.stats().limits).toMatchObject({ 'checks.rate.per-prefix': 1 })
  })
})
