import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LimitsError, manualClock, RateLimiter, TokenBucket } from '../src/index.js'

describe('TokenBucket', () => {
  const limit = { burst: 3, perSecond: 0.1 } // one token every 10 s, as the dial-back check

  it('allows the burst, then one token per interval', () => {
    const b = new TokenBucket(limit, 0)
    expect([b.take(limit, 0), b.take(limit, 0), b.take(limit, 0), b.take(limit, 0)]).toEqual([
      true,
      true,
      true,
      false,
    ])
    expect(b.take(limit, 9_999)).toBe(false)
    expect(b.take(limit, 10_000)).toBe(true)
    expect(b.take(limit, 10_000)).toBe(false)
  })

  it('never refills past the burst, and a clock going backwards refills nothing', () => {
    const b = new TokenBucket(limit, 1_000_000)
    expect(b.take(limit, 1_000_000)).toBe(true)
    expect(b.isFull(limit, 10_000_000)).toBe(true)
    for (let i = 0; i < 3; i++) b.take(limit, 10_000_000)
    expect(b.take(limit, 0)).toBe(false) // backwards
    expect(b.take(limit, 10_000_000)).toBe(false) // and the jump back refilled nothing either
  })

  it('over any sequence of times, grants at most burst + elapsed * rate', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(5_000), { maxLength: 200 }), (steps) => {
        const b = new TokenBucket(limit, 0)
        let t = 0
        let granted = 0
        for (const s of steps) {
          t += s
          if (b.take(limit, t)) granted++
        }
        return granted <= limit.burst + (t / 1000) * limit.perSecond + 1e-9
      }),
    )
  })
})

describe('RateLimiter', () => {
  it('keeps a bucket per key on the injected clock', () => {
    const clock = manualClock()
    const r = new RateLimiter({ burst: 2, perSecond: 1, maxKeys: 10, clock })
    expect([r.take('x'), r.take('x'), r.take('x')]).toEqual([true, true, false])
    expect(r.take('y')).toBe(true)
    clock.advance(999)
    expect(r.take('x')).toBe(false)
    clock.advance(1)
    expect(r.take('x')).toBe(true)
    clock.advance(10_000)
    r.sweep()
    expect(r.size).toBe(0)
  })

  it('bounds the keys, forgetting the least recently used', () => {
    const r = new RateLimiter({ burst: 1, perSecond: 0, maxKeys: 3 })
    for (const k of ['a', 'b', 'c']) expect(r.take(k, 0)).toBe(true)
    expect(r.take('a', 0)).toBe(false) // a is now the most recently used
    expect(r.take('d', 0)).toBe(true) // evicts b
    expect(r.size).toBe(3)
    expect(r.take('a', 0)).toBe(false) // a was kept (still empty)
    expect(r.take('b', 0)).toBe(true) // b was forgotten: full again
  })

  it('rejects limits that make no sense with ERR_INVALID_LIMIT', () => {
    const bad = [
      { burst: 0, perSecond: 1, maxKeys: 1 },
      { burst: 1, perSecond: -1, maxKeys: 1 },
      { burst: Number.NaN, perSecond: 1, maxKeys: 1 },
      { burst: 1, perSecond: 1, maxKeys: 0 },
      { burst: 1, perSecond: 1, maxKeys: 1.5 },
    ]
    for (const o of bad) {
      expect(() => new RateLimiter(o)).toThrow(LimitsError)
      try {
        new RateLimiter(o)
      } catch (err) {
        expect((err as LimitsError).code).toBe('ERR_INVALID_LIMIT')
      }
    }
  })
})
