/**
 * The eviction policy of a node's inbound slots (src/inbound-slots.ts) on an injected clock: only
 * connections silent for `idleEvictAfter` are evicted, from the network holding the most first, the
 * longest silent first; never so that the victim's network ends below the newcomer's.
 */
import type { LineSocket } from '@pyp2p/framing'
import { DEFAULT_PREFIX_LENGTHS, manualClock } from '@pyp2p/limits'
import { describe, expect, it } from 'vitest'
import { InboundSlots } from '../src/inbound-slots.js'

const clock = manualClock(1_000_000)
/** A connection that last sent something at `lastReceived` (all the slots look at). */
const con = (name: string, lastReceived = clock.now()) => ({ name, lastReceived }) as unknown as LineSocket
const nameOf = (c: LineSocket | undefined) => (c as unknown as { name: string } | undefined)?.name

function slots(maxInbound: number, maxPerPrefix = maxInbound, idleEvictAfter = 20_000) {
  const s = new InboundSlots({
    maxInbound,
    maxPerIp: maxPerPrefix,
    maxPerPrefix,
    maxPendingPerPrefix: 8,
    idleEvictAfter,
    prefixLengths: DEFAULT_PREFIX_LENGTHS,
    now: clock.now,
  })
  const fill = (c: LineSocket, ip: string) => {
    const a = s.admit(ip)
    if (!a.ok) throw new Error(a.detail)
    if (a.victim !== undefined) s.delete(a.victim)
    s.add(c, a.keys)
    return nameOf(a.victim)
  }
  return { s, fill }
}

describe('InboundSlots', () => {
  it('refuses past the caps per IP and per network, typed, naming the network', () => {
    const { s, fill } = slots(10, 2)
    fill(con('a'), '10.9.9.1')
    fill(con('b'), '::ffff:10.9.9.2') // IPv4-mapped: the same /24
    expect(s.admit('10.9.9.3')).toMatchObject({ ok: false, refusal: 'per-prefix' })
    expect(s.admit('10.9.9.3')).toMatchObject({ detail: expect.stringMatching(/10\.9\.9\.0\/24 holds 2/) })
    fill(con('c'), 'fd00:9::1')
    fill(con('d'), 'fd00:9::2:1') // same /64: one IP
    expect(s.admit('fd00:9::ffff:1')).toMatchObject({ ok: false, refusal: 'per-ip' })
    expect(s.admit('10.8.8.1')).toMatchObject({ ok: true, victim: undefined })
  })

  it('full: nobody silent long enough means ERR_PEER_FULL; one ms later the longest silent goes', () => {
    const { s, fill } = slots(3)
    const t0 = clock.now()
    fill(con('old', t0), '10.9.9.1')
    fill(con('older', t0 - 5), '10.9.9.2')
    fill(con('recent', t0 + 10), '10.9.9.3')
    clock.set(t0 - 5 + 20_000 - 1)
    expect(s.admit('10.8.8.1')).toMatchObject({ ok: false, refusal: 'max-inbound' })
    clock.advance(1)
    const a = s.admit('10.8.8.1')
    expect(a.ok && nameOf(a.victim)).toBe('older')
  })

  it('evicts from the network holding the most, never leaving it below the newcomer’s', () => {
    const { fill, s } = slots(6, 6, 0)
    clock.advance(1)
    fill(con('a1', clock.now() - 100), '10.1.1.1') // the longest silent of all, in a small network
    for (const [i, n] of ['b1', 'b2', 'b3'].entries()) fill(con(n), `10.2.2.${i + 1}`)
    fill(con('c1'), '10.3.3.1')
    fill(con('c2'), '10.3.3.2')
    // A newcomer of a fourth network takes from the largest (10.2.2.0/24), its longest silent.
    expect(fill(con('d1'), '10.4.4.1')).toBe('b1')
    // A newcomer of 10.3.3.0/24 (2 already) takes from its own network: no other holds more, and the
    // longest silent of all (a1, alone in its /24) is not taken for a network already larger.
    expect(fill(con('c3'), '10.3.3.3')).toBe('c1')
    expect(s.size).toBe(6)
  })
})
