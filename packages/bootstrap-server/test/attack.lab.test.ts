/**
 * Issue 21's attacks from many addresses of one prefix, in a lab namespace where 10.9.9.0/24 and
 * fd00:9::/64 are local (so one process connects from any of their addresses; no loopback, which a
 * server might exempt). Each run (fixtures/attack-arena.ts, in the namespace) starts a real server, lets
 * one prefix attack at full rate, and has legitimate clients from another prefix that must be served.
 */
import { addLocalPrefixes, createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ARENA = new URL('./fixtures/attack-arena.ts', import.meta.url).pathname
const WAIT = 120_000
/** the server's, the legitimate clients' and the attacker's prefixes */
const ARENA_PREFIXES = [
  '10.7.7.0/24',
  '10.8.8.0/24',
  '10.9.9.0/24',
  'fd00:7::/64',
  'fd00:8::/64',
  'fd00:9::/64',
]
const ready = await labReadiness()

interface Legit {
  ok: boolean
  line: string
}
interface TableResult {
  attackerHeld: number
  attacker: Record<string, number>
  legit: Legit[]
  before: {
    connections: number
    limits: Record<string, number>
    limitsByPrefix: { limit: string; prefix: string }[]
  }
  after: {
    evictions: number
    limits: Record<string, number>
    limitsByPrefix: { limit: string; prefix: string }[]
  }
}

describe.skipIf(!ready.ok)('attacks from one prefix (lab)', () => {
  let lab: Lab

  beforeAll(async () => {
    lab = await createLab({ publicHosts: { arena: {} } })
    await addLocalPrefixes(lab, 'arena', ARENA_PREFIXES)
  }, WAIT)

  afterAll(async () => {
    await lab?.close()
  })

  async function arena<T>(args: object): Promise<T> {
    const proc = lab.spawnNode('arena', ARENA, [JSON.stringify(args)])
    const line = await proc.waitForLine(/^\{"event":"result"/, { timeout: WAIT })
    await proc.exited
    return JSON.parse(line) as T
  }

  const allServed = (legit: Legit[]): void => {
    expect(legit.length).toBeGreaterThan(0)
    for (const l of legit) expect(l).toMatchObject({ ok: true, line: expect.stringMatching(/^NODES /) })
  }

  it(
    "IPv4 /24 at the issue's numbers: the per-prefix limit holds it to 1,024 of 2,000; others are served",
    async () => {
      const r = await arena<TableResult>({
        attack: 'v4-table',
        server: { maxConnections: 2000 },
        connections: 2000,
      })
      expect(r.attackerHeld).toBe(1024)
      expect(r.attacker.ERR_TOO_MANY_CONNECTIONS).toBeGreaterThan(0)
      allServed(r.legit)
      expect(r.before.limits['connections.per-prefix']).toBeGreaterThan(0)
      expect(r.before.limitsByPrefix[0]).toMatchObject({
        limit: 'connections.per-prefix',
        prefix: '10.9.9.0/24',
      })
    },
    WAIT,
  )

  it(
    'IPv4 /24 holding the whole table (no per-prefix limit): newcomers of other prefixes evict it',
    async () => {
      const r = await arena<TableResult>({
        attack: 'v4-table',
        server: { maxConnections: 2000, maxConnectionsPerPrefix: 1_000_000, maxNodesPerPrefix: 1_000_000 },
        connections: 2000,
      })
      expect(r.attackerHeld).toBe(2000)
      allServed(r.legit)
      expect(r.attacker.ERR_EVICTED).toBeGreaterThanOrEqual(r.legit.length)
      expect(r.after.evictions).toBeGreaterThanOrEqual(r.legit.length)
      expect(r.after.limits['connections.evicted']).toBe(r.after.evictions)
      expect(
        r.after.limitsByPrefix.some((x) => x.limit === 'connections.evicted' && x.prefix === '10.9.9.0/24'),
      ).toBe(true)
    },
    WAIT,
  )

  it(
    'IPv6 /64, one connection per address: the /64 counts as one IP; others are served',
    async () => {
      const r = await arena<TableResult>({
        attack: 'v6-table',
        server: { maxConnections: 2000 },
        connections: 2000,
      })
      expect(r.attackerHeld).toBe(256)
      expect(r.attacker.ERR_TOO_MANY_CONNECTIONS).toBeGreaterThan(0)
      allServed(r.legit)
      expect(r.before.limitsByPrefix[0]).toMatchObject({ limit: 'connections.per-ip', prefix: 'fd00:9::/48' })
    },
    WAIT,
  )

  it(
    'IPv6 /64 holding the whole table (no per-IP or per-prefix limit): fairness evicts it',
    async () => {
      const r = await arena<TableResult>({
        attack: 'v6-table',
        server: {
          maxConnections: 2000,
          maxConnectionsPerIp: 1_000_000,
          maxConnectionsPerPrefix: 1_000_000,
          maxNodesPerIp: 1_000_000,
          maxNodesPerPrefix: 1_000_000,
        },
        connections: 2000,
      })
      expect(r.attackerHeld).toBe(2000)
      allServed(r.legit)
      expect(r.attacker.ERR_EVICTED).toBeGreaterThanOrEqual(r.legit.length)
    },
    WAIT,
  )

  it(
    "relay: one /24's node ids cannot fill an offline node's queue or the relay; a message is delivered",
    async () => {
      const r = await arena<{
        queued: number
        attacker: Record<string, number>
        sent: string
        delivered: boolean
        stats: { limits: Record<string, number> }
      }>({ attack: 'relay', server: { relay: { maxQueuedBytes: 800_000, maxQueuedBytesPerPrefix: 50_000 } } })
      expect(r.sent).toBe('SENT')
      expect(r.delivered).toBe(true)
      expect(r.attacker.ERR_QUEUE_FULL).toBeGreaterThan(0)
      expect(r.attacker.ERR_RELAY_FULL).toBeGreaterThan(0)
      expect(r.stats.limits['relay.queue.per-prefix-per-node']).toBeGreaterThan(0)
      expect(r.stats.limits['relay.queue.bytes-per-prefix']).toBeGreaterThan(0)
    },
    WAIT,
  )
})
