import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FairTable, LimitCounter, manualClock, type VictimPolicy } from '../src/index.js'

interface Entry {
  readonly ip: string
  readonly registered: boolean
}

/** Oldest unregistered entry first, then the youngest registered one (long-lived ones are kept). */
const policy: VictimPolicy<Entry> = (members) => {
  let youngest: Entry | undefined
  for (const e of members) {
    if (!e.registered) return e
    youngest = e
  }
  return youngest
}

function fill(table: FairTable<Entry>, ips: string[], registered = false): Entry[] {
  return ips.map((ip) => {
    const e = { ip, registered }
    table.add(e, table.keysOf(ip))
    return e
  })
}

describe('FairTable', () => {
  it('refuses past the per-IP and per-prefix limits, naming the IP or prefix', () => {
    const t = new FairTable<Entry>({ capacity: 100, maxPerIp: 2, maxPerPrefix: 3 })
    fill(t, ['10.9.9.1', '10.9.9.1'])
    expect(t.admit('10.9.9.1')).toMatchObject({ ok: false, refusedBy: 'per-ip', key: '10.9.9.1', limit: 2 })
    fill(t, ['10.9.9.2'])
    expect(t.admit('10.9.9.3')).toMatchObject({ ok: false, refusedBy: 'per-prefix', key: '10.9.9.0/24' })
    expect(t.admit('10.9.8.1')).toMatchObject({ ok: true, victim: undefined })
    // IPv6: every address of a /64 is one IP.
    fill(t, ['fd00:9::1', 'fd00:9::2'])
    expect(t.admit('fd00:9::3')).toMatchObject({ ok: false, refusedBy: 'per-ip', key: 'fd00:9::/64' })
    fill(t, ['fd00:9:0:1::1'])
    expect(t.admit('fd00:9:0:2::1')).toMatchObject({ ok: false, refusedBy: 'per-prefix', key: 'fd00:9::/48' })
    // IPv4-mapped IPv6 is counted with the IPv4 address.
    expect(t.admit('::ffff:10.9.9.1')).toMatchObject({ ok: false, refusedBy: 'per-ip' })
  })

  it('when full, a newcomer from a small prefix evicts from the largest one, by the policy', () => {
    const t = new FairTable<Entry>({ capacity: 4, maxPerIp: 10, maxPerPrefix: 10 })
    const [old, mid] = fill(t, ['10.9.9.1', '10.9.9.2'], true)
    const [idle] = fill(t, ['10.9.9.3'])
    fill(t, ['10.8.8.1'])
    const a = t.admit('10.7.7.1', policy)
    expect(a).toMatchObject({ ok: true, victim: idle }) // unregistered first
    t.delete(idle!)
    t.add({ ip: '10.7.7.1', registered: false }, t.keysOf('10.7.7.1'))
    // 10.9.9/24 holds 2 (both registered): the youngest goes, the long-lived one stays.
    const b = t.admit('10.6.6.1', policy)
    expect(b).toMatchObject({ ok: true, victim: mid })
    t.delete(mid!)
    t.add({ ip: '10.6.6.1', registered: false }, t.keysOf('10.6.6.1'))
    expect(t.has(old!)).toBe(true)
    // Every prefix holds 1 now: a newcomer would not leave the largest above its own.
    expect(t.admit('10.5.5.1', policy)).toMatchObject({ ok: false, refusedBy: 'full', key: '10.5.5.0/24' })
  })

  it('a prefix at its fair share is refused when full; no policy never evicts', () => {
    const t = new FairTable<Entry>({ capacity: 4, maxPerIp: 10, maxPerPrefix: 10 })
    fill(t, ['10.9.9.1', '10.9.9.2', '10.9.9.3', '10.8.8.1'])
    // Two prefixes: share 2. 10.9.9/24 holds 3: refused.
    expect(t.admit('10.9.9.4', policy)).toMatchObject({ ok: false, refusedBy: 'full', limit: 2 })
    expect(t.admit('10.8.8.2')).toMatchObject({ ok: false, refusedBy: 'full', limit: 4 })
    expect(t.admit('10.8.8.2', policy)).toMatchObject({ ok: true })
  })

  it('a policy that protects every member refuses the newcomer', () => {
    const t = new FairTable<Entry>({ capacity: 3, maxPerIp: 10, maxPerPrefix: 10 })
    fill(t, ['10.9.9.1', '10.9.9.2', '10.9.9.3'], true)
    expect(t.admit('10.8.8.1', () => undefined)).toMatchObject({ ok: false, refusedBy: 'full' })
    expect(t.admit('10.8.8.1', () => ({ ip: 'x', registered: false }))).toMatchObject({ ok: false })
  })

  it('under any arrival order, no prefix is pushed below the newcomer and limits always hold', () => {
    const prefixes = ['10.1.1', '10.2.2', '10.3.3', 'fd00:1:', 'fd00:2:']
    const ipOf = (p: string, n: number): string => (p.includes(':') ? `${p}${n}::1` : `${p}.${n}`)
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(prefixes.length - 1), fc.nat(7), fc.boolean()), { maxLength: 300 }),
        (arrivals) => {
          const t = new FairTable<Entry>({ capacity: 12, maxPerIp: 3, maxPerPrefix: 8 })
          const live: Entry[] = []
          for (const [p, n, leave] of arrivals) {
            if (leave && live.length > 0) {
              t.delete(live.shift()!)
              continue
            }
            const ip = ipOf(prefixes[p]!, n)
            const a = t.admit(ip, policy)
            if (!a.ok) continue
            if (a.victim !== undefined) {
              const before = t.countPrefix(t.keysOfEntry(a.victim)!.prefix)
              expect(before).toBeGreaterThan(t.countPrefix(a.keys.prefix) + 1)
              t.delete(a.victim)
              live.splice(live.indexOf(a.victim), 1)
            }
            const e = { ip, registered: false }
            t.add(e, a.keys)
            live.push(e)
            expect(t.size).toBeLessThanOrEqual(12)
            expect(t.countIp(a.keys.host)).toBeLessThanOrEqual(3)
            expect(t.countPrefix(a.keys.prefix)).toBeLessThanOrEqual(8)
          }
          expect(t.size).toBe(live.length)
        },
      ),
    )
  })

  it('one prefix filling the table cannot keep another out: fair shares are reached', () => {
    const t = new FairTable<Entry>({ capacity: 100, maxPerIp: 100, maxPerPrefix: 100 })
    fill(
      t,
      Array.from({ length: 100 }, (_, i) => `10.9.9.${i}`),
    )
    let admitted = 0
    for (let i = 0; i < 100; i++) {
      const a = t.admit(`10.8.8.${i}`, policy)
      if (!a.ok) break
      if (a.victim !== undefined) t.delete(a.victim)
      t.add({ ip: `10.8.8.${i}`, registered: false }, a.keys)
      admitted++
    }
    expect(admitted).toBe(50) // the fair share: half each
    expect(t.countPrefix('10.9.9.0/24')).toBe(50)
  })

  it('rejects bad limits', () => {
    expect(() => new FairTable({ capacity: 0 })).toThrow(/capacity/)
    expect(() => new FairTable({ capacity: 1, maxPerPrefix: 1.5 })).toThrow(/maxPerPrefix/)
    expect(() => new FairTable({ capacity: 1, lengths: { ipv4Prefix: 33 } })).toThrow(/ipv4Prefix/)
  })
})

describe('LimitCounter', () => {
  it('counts every hit by name and by (name, prefix); logs once per interval per pair', () => {
    const clock = manualClock()
    const c = new LimitCounter({ clock, logIntervalMs: 1_000, maxKeys: 2 })
    expect(c.hit('connections.per-prefix', '10.9.9.0/24')).toBe(1)
    expect(c.hit('connections.per-prefix', '10.9.9.0/24')).toBe(0)
    expect(c.hit('connections.per-prefix', '10.9.9.0/24')).toBe(0)
    clock.advance(1_000)
    expect(c.hit('connections.per-prefix', '10.9.9.0/24')).toBe(3) // the two unlogged ones and this one
    c.hit('nodes.per-ip', '10.8.8.1')
    c.hit('nodes.per-ip', '10.8.8.1')
    expect(c.totals()).toEqual({ 'connections.per-prefix': 4, 'nodes.per-ip': 2 })
    expect(c.top(1)).toEqual([{ limit: 'connections.per-prefix', prefix: '10.9.9.0/24', count: 4 }])
    c.hit('relay.queue', 'fd00:9::/48') // over maxKeys: the least recently hit pair is forgotten
    expect(c.top().map((x) => x.limit)).toEqual(['nodes.per-ip', 'relay.queue'])
    expect(c.totals()['connections.per-prefix']).toBe(4) // totals keep everything
  })
})
