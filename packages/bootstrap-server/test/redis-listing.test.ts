/**
 * BOOTSTRAP on Redis from each instance's listing cache (cluster/listing-cache.ts), on a real
 * redis-server and a manual clock shared by the instances: a warm pool answers without a Redis round
 * trip (Redis's own command counters), this instance's registrations are listed at once, a node
 * cleared at another instance is listed for at most `redisListingRefreshMs` more, the pool refreshes in
 * the background, and while Redis is away the last pool is served until `redisEntryTtlMs` old.
 */
import { type ManualClock, manualClock } from '@pyp2p/limits'
import { describe, expect, it } from 'vitest'
import type { BootstrapServer } from '../src/index.js'
import { redisCommand } from './fixtures/redis.js'
import { redisSuite } from './fixtures/redis-suite.js'
import { nodeId, startServer, until } from './helpers.js'

const suite = redisSuite('l')
const { ready, servers, client } = suite
const HOUR = 60 * 60 * 1000
const R = 1_000
const TTL = 5_000
const TOKEN = 'k'.repeat(32)

/**
 * Instances sharing the Redis (a prefix of their own) and one manual clock. Redis gets 10 s to answer
 * (a loaded CI machine must not turn a read into a timeout here); the entry TTL (the pool's limit while
 * Redis is away) is an hour unless given, so no entry refresh adds script calls behind the test's back.
 */
async function instances(
  n: number,
  redisEntryTtlMs = HOUR,
): Promise<{ clock: ManualClock; ports: number[]; srv: BootstrapServer[] }> {
  const clock = manualClock(Date.now())
  const redisKeyPrefix = suite.prefix()
  const ports: number[] = []
  const srv: BootstrapServer[] = []
  for (let i = 0; i < n; i++) {
    const { server, port } = await startServer({
      redis: suite.redis.url,
      redisKeyPrefix,
      clock,
      sweepIntervalMs: HOUR,
      redisListingRefreshMs: R,
      redisEntryTtlMs,
      redisTimeoutMs: 10_000,
    })
    servers.push(server)
    srv.push(server)
    ports.push(port)
  }
  return { clock, ports, srv }
}

async function listed(port: number): Promise<string[]> {
  const c = await client(port)
  const reply = await c.request('BOOTSTRAP 50')
  c.close()
  if (reply.type !== 'NODES') throw new Error(`expected NODES, got ${JSON.stringify(reply)}`)
  return reply.nodes.map((n) => n.nodeId).sort()
}

/** Script calls Redis executed so far (every store call but plain GET/PUBLISH is one). */
async function scriptCalls(): Promise<number> {
  const lua = `"return tonumber(string.match(redis.call('INFO','commandstats'),'cmdstat_evalsha:calls=(%d+)') or '0')"`
  const reply = await redisCommand(suite.redis.port, `EVAL ${lua} 0`)
  const m = /^:(\d+)$/.exec(reply.trim())
  if (m === null) throw new Error(`unexpected INFO reply ${reply}`)
  return Number(m[1])
}

function listing(s: BootstrapServer) {
  const l = s.stats().redis?.listing
  if (l === undefined) throw new Error('no listing stats')
  return l
}

describe.skipIf(!ready.ok)(`BOOTSTRAP from the listing cache ${ready.reason ?? ''}`, () => {
  it('a warm pool answers without Redis; nodes registered here are listed here at once', async () => {
    const { ports, srv } = await instances(2)
    const [a, b] = ports as [number, number]
    const x = await client(a)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(b)).toEqual([nodeId(1)]) // cold: read from Redis
    const before = await scriptCalls()
    for (let i = 0; i < 20; i++) expect(await listed(b)).toEqual([nodeId(1)])
    expect(await scriptCalls()).toBe(before)
    expect(listing(srv[1] as BootstrapServer)).toMatchObject({ waits: 1, refreshes: 1, hits: 20 })
    // Registered at B after its pool was read: listed at B at once, still without Redis reads.
    const y = await client(b)
    expect(await y.request(`SIMULTANEOUS READY 4001 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    const calls = await scriptCalls()
    expect(await listed(b)).toEqual([nodeId(1), nodeId(2)])
    expect(await scriptCalls()).toBe(calls)
    // And gone at B at once when it leaves.
    y.close()
    await until(() => (srv[1] as BootstrapServer).stats().nodes === 0, 'B to drop it')
    expect(await listed(b)).toEqual([nodeId(1)])
  })

  it('a node cleared at another instance is listed for at most the refresh period more', async () => {
    const { clock, ports, srv } = await instances(3)
    const [a, b, c] = ports as [number, number, number]
    const sb = srv[1] as BootstrapServer
    const x = await client(a)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)} ${TOKEN}`)).toMatchObject({ type: 'OK' })
    expect(await listed(b)).toEqual([nodeId(1)])
    // Registered at A, cleared at C: gone at A and C at once (A is told, C's pool is cold).
    expect(await (await client(c)).request(`CLEAR ${nodeId(1)} ${TOKEN}`)).toMatchObject({ what: 'CLEAR' })
    await until(() => (srv[0] as BootstrapServer).stats().nodes === 0, 'A to forget it')
    expect(await listed(a)).toEqual([])
    expect(await listed(c)).toEqual([])
    // Within the bound B may still list it (its pool is younger than R)...
    clock.advance(R / 2 - 1)
    expect(await listed(b)).toEqual([nodeId(1)])
    // ...never once the pool is R old: that BOOTSTRAP waits for a fresh read.
    clock.advance(R / 2 + 1)
    expect(await listed(b)).toEqual([])
    expect(listing(sb)).toMatchObject({ waits: 2, refreshes: 2 })

    // Stale-while-revalidate: past half of R a BOOTSTRAP is served from the pool at once and a
    // refresh starts in the background; the next one sees what it read.
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(3)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(b)).toEqual([])
    clock.advance(R / 2)
    expect(await listed(b)).toEqual([])
    await until(() => listing(sb).refreshes === 3 && listing(sb).size === 1, 'the background refresh')
    expect(await listed(b)).toEqual([nodeId(3)])
    expect(listing(sb)).toMatchObject({ waits: 2, refreshes: 3 })
  })

  it('Redis stops: the last pool is served until it is the entry TTL old, then own nodes only', async () => {
    const { clock, ports, srv } = await instances(2, TTL)
    const [a, b] = ports as [number, number]
    const sb = srv[1] as BootstrapServer
    const x = await client(a)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    const y = await client(b)
    expect(await y.request(`PASSIVE READY 4001 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    expect(await listed(b)).toEqual([nodeId(1), nodeId(2)])
    await suite.redis.stop()
    try {
      await until(() => sb.stats().redis?.status === 'degraded', 'B to notice')
      clock.advance(R)
      expect(await listed(b)).toEqual([nodeId(1), nodeId(2)])
      expect(listing(sb).stale).toBe(1)
      clock.advance(TTL - R)
      expect(await listed(b)).toEqual([nodeId(2)])
    } finally {
      await suite.redis.start()
    }
    await until(() => sb.stats().redis?.status === 'ok', 'B to reconnect')
  })
})
