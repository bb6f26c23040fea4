/**
 * Scale-out on a real redis-server: two and three BootstrapServer instances on loopback sharing one
 * Redis are one network (registrations listed everywhere, CLEAR anywhere, per-IP limits across
 * instances, punches and relay messages between nodes connected to different instances).
 */
import { once } from 'node:events'
import { RelayClient, type TransportMessage } from '@pyp2p/dht-msg'
import { NodeIdentity } from '@pyp2p/identity'
import { describe, expect, it } from 'vitest'
import type { BootstrapServer, BootstrapServerOptions } from '../src/index.js'
import { redisSuite } from './fixtures/redis-suite.js'
import { nodeId, startServer, until, WAIT_MS } from './helpers.js'

const suite = redisSuite('t')
const { ready, servers, cleanups, client } = suite

/** `n` instances sharing the Redis under a key prefix of their own (tests do not see each other). */
async function instances(n: number, options: BootstrapServerOptions = {}): Promise<number[]> {
  const prefix = suite.prefix()
  const ports: number[] = []
  for (let i = 0; i < n; i++) {
    const { server, port } = await startServer({ redis: suite.redis.url, redisKeyPrefix: prefix, ...options })
    servers.push(server)
    ports.push(port)
  }
  return ports
}

async function listed(port: number): Promise<string[]> {
  const c = await client(port)
  const reply = await c.request('BOOTSTRAP 50')
  if (reply.type !== 'NODES') throw new Error(`expected NODES, got ${JSON.stringify(reply)}`)
  c.close()
  return reply.nodes.map((n) => `${n.nodeType === 'passive' ? 'p' : 's'}:${n.nodeId}`)
}

const TOKEN = 'k'.repeat(32)

describe.skipIf(!ready.ok)(`scale-out on Redis ${ready.reason ?? ''}`, () => {
  it('a node registered at one of three instances is listed at all; CLEAR with its token anywhere removes it everywhere', async () => {
    // Strict listing (every BOOTSTRAP asks Redis): the cache's bound is in redis-listing.test.ts.
    const [a, b, c] = (await instances(3, { redisListingRefreshMs: 0 })) as [number, number, number]
    const node = await client(a)
    expect(await node.request(`PASSIVE READY 4000 1 ${nodeId(1)} ${TOKEN}`)).toEqual({
      type: 'OK',
      what: 'PASSIVE',
    })
    const sim = await client(b)
    expect(await sim.request(`SIMULTANEOUS READY 4001 1 ${nodeId(2)}`)).toMatchObject({
      what: 'SIMULTANEOUS',
    })
    for (const port of [a, b, c]) {
      expect((await listed(port)).sort()).toEqual([`p:${nodeId(1)}`, `s:${nodeId(2)}`])
    }
    // A node never gets itself.
    expect(await sim.request('BOOTSTRAP 5')).toMatchObject({ type: 'NODES', nodes: [{ nodeId: nodeId(1) }] })
    const other = await client(c)
    expect(await other.request(`CLEAR ${nodeId(1)} ${'x'.repeat(32)}`)).toMatchObject({
      code: 'ERR_NO_SUCH_NODE',
    })
    expect(await other.request(`CLEAR ${nodeId(1)} ${TOKEN}`)).toEqual({ type: 'OK', what: 'CLEAR' })
    await until(() => (servers[0] as BootstrapServer).stats().nodes === 0, 'instance A to forget the node')
    for (const port of [a, b, c]) expect(await listed(port)).toEqual([`s:${nodeId(2)}`])
    // The simultaneous node leaves with its connection, everywhere.
    sim.close()
    await until(() => (servers[1] as BootstrapServer).stats().nodes === 0, 'instance B to drop it')
    for (const port of [a, c]) expect(await listed(port)).toEqual([])
    expect((servers[0] as BootstrapServer).stats().redis).toMatchObject({ status: 'ok', skipped: 0 })
  })

  it('the per-IP limit holds across instances', async () => {
    const [a, b] = (await instances(2, { maxNodesPerIp: 2 })) as [number, number]
    const x = await client(a)
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
    expect(await x.request(`PASSIVE READY 4000 1 ${nodeId(2)}`)).toMatchObject({ type: 'OK' })
    const y = await client(b)
    expect(await y.request(`PASSIVE READY 4000 1 ${nodeId(3)}`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_TOO_MANY_NODES',
    })
    expect((servers[1] as BootstrapServer).stats().nodes).toBe(0)
    // Another address is not affected; re-registering a listed id is not a new one.
    const z = await client(b, '127.0.0.2')
    expect(await z.request(`PASSIVE READY 4000 1 ${nodeId(3)}`)).toMatchObject({ type: 'OK' })
    expect(await y.request(`PASSIVE READY 4001 1 ${nodeId(1)}`)).toMatchObject({ type: 'OK' })
  })

  it('a node registered again at another instance replaces its registration there', async () => {
    const [a, b] = (await instances(2)) as [number, number]
    const first = await client(a)
    expect(await first.request(`SIMULTANEOUS READY 4000 1 ${nodeId(7)}`)).toMatchObject({ type: 'OK' })
    const second = await client(b)
    expect(await second.request(`SIMULTANEOUS READY 4001 1 ${nodeId(7)}`)).toMatchObject({ type: 'OK' })
    expect(await first.next()).toMatchObject({ type: 'ERROR', code: 'ERR_REPLACED' })
    await until(() => (servers[0] as BootstrapServer).stats().nodes === 0, 'instance A to drop it')
    expect(await listed(a)).toEqual([`s:${nodeId(7)}`])
  })

  for (const n of [2, 3]) {
    it(`CANDIDATE at one instance -> CHALLENGE -> ACCEPT -> FIGHT with the target at another (${n} instances)`, async () => {
      const ports = await instances(n)
      const target = await client(ports[0] as number, '127.0.0.2')
      expect(await target.request(`SIMULTANEOUS READY 7000 4 ${nodeId(0xb)}`)).toMatchObject({ type: 'OK' })
      const cand = await client(ports[n - 1] as number, '127.0.0.3')
      const set = await cand.request(`CANDIDATE ${nodeId(0xb)} ${nodeId(0xa)} TCP 40001 40002`)
      if (set.type !== 'PREDICTION_SET')
        throw new Error(`expected PREDICTION SET, got ${JSON.stringify(set)}`)
      expect(await target.next()).toEqual({
        type: 'CHALLENGE',
        punchId: set.punchId,
        nodeId: nodeId(0xa),
        ip: '127.0.0.3',
        ports: [40001, 40002],
      })
      const fightCand = cand.next()
      target.send(`ACCEPT ${set.punchId} TCP 50001`)
      expect(await target.next()).toMatchObject({ type: 'FIGHT', ip: '127.0.0.3', ports: [40001, 40002] })
      expect(await fightCand).toMatchObject({
        type: 'FIGHT',
        punchId: set.punchId,
        ip: '127.0.0.2',
        ports: [50001],
      })
      expect((servers[0] as BootstrapServer).stats()).toMatchObject({ coordinations: 1, pendingPunches: 0 })
      expect((servers[n - 1] as BootstrapServer).stats().redis?.remotePunches).toBe(0)
      // A second punch: the target rejects it; then a third whose candidate leaves before FIGHT.
      const again = await cand.request(`CANDIDATE ${nodeId(0xb)} ${nodeId(0xa)} TCP 40003`)
      if (again.type !== 'PREDICTION_SET') throw new Error('expected PREDICTION SET')
      expect(await target.next()).toMatchObject({ type: 'CHALLENGE', punchId: again.punchId })
      target.send(`REJECT ${again.punchId} busy`)
      expect(await target.next()).toEqual({ type: 'OK', what: 'REJECT' })
      expect(await cand.next()).toMatchObject({
        type: 'ERROR',
        code: 'ERR_PUNCH_REJECTED',
        punchId: again.punchId,
      })
      const third = await cand.request(`CANDIDATE ${nodeId(0xb)} ${nodeId(0xa)} TCP 40004`)
      if (third.type !== 'PREDICTION_SET') throw new Error('expected PREDICTION SET')
      expect(await target.next()).toMatchObject({ type: 'CHALLENGE', punchId: third.punchId })
      cand.close()
      expect(await target.next()).toMatchObject({
        type: 'ERROR',
        code: 'ERR_PEER_GONE',
        punchId: third.punchId,
      })
    })
  }

  it('CANDIDATE for a node that is nowhere, or passive, is refused as before', async () => {
    const [a, b] = (await instances(2)) as [number, number]
    const passive = await client(a)
    expect(await passive.request(`PASSIVE READY 7000 4 ${nodeId(0xb)}`)).toMatchObject({ type: 'OK' })
    const cand = await client(b)
    for (const target of [nodeId(0xb), nodeId(0xc)]) {
      expect(await cand.request(`CANDIDATE ${target} ${nodeId(0xa)} TCP 40001`)).toMatchObject({
        type: 'ERROR',
        code: 'ERR_NO_SUCH_NODE',
      })
    }
  })

  it('relay messages reach a node connected to another instance, also one that connects later', async () => {
    const [a, b, c] = (await instances(3)) as [number, number, number]
    const relayClient = async (port: number): Promise<RelayClient> => {
      const r = await RelayClient.connect({ host: '127.0.0.1', port, signal: AbortSignal.timeout(WAIT_MS) })
      cleanups.push(() => r.close())
      return r
    }
    const next = (r: RelayClient): Promise<TransportMessage> =>
      once(r, 'message', { signal: AbortSignal.timeout(WAIT_MS) }).then(([m]) => m as TransportMessage)
    const bob = await relayClient(a)
    const alice = await relayClient(b)
    const got = next(bob)
    await alice.send(bob.nodeId, 'connect back to me, please')
    expect(await got).toMatchObject({ from: alice.nodeId, message: 'connect back to me, please' })
    // Carol is not connected yet: the message waits at B, and follows her to C when she connects.
    const carolIdentity = NodeIdentity.generate()
    await alice.send(carolIdentity.nodeId, 'hello carol')
    await until(() => (servers[1] as BootstrapServer).stats().relayQueued === 1, 'the message to wait at B')
    const carol = await RelayClient.connect({
      host: '127.0.0.1',
      port: c,
      identity: carolIdentity,
      signal: AbortSignal.timeout(WAIT_MS),
    })
    cleanups.push(() => carol.close())
    // (Her message comes two Redis hops after her WELCOME: the listener is in place by then.)
    expect(await next(carol)).toMatchObject({ from: alice.nodeId, message: 'hello carol' })
    await until(() => (servers[1] as BootstrapServer).stats().relayQueued === 0, 'B to hand it over')
  })
})
