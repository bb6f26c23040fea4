/**
 * One token bucket: `burst` tokens at most, refilled at `perSecond`. Two numbers of state, so a
 * server can keep one per connection; the time is passed in (from a `Clock`), never read here.
 */
import { LimitsError } from './errors.js'

export interface RateLimit {
  /** Bucket size: how many may come at once. */
  burst: number
  /** Tokens added per second (may be fractional: 0.1 is one every 10 s). */
  perSecond: number
}

/** Throws `ERR_INVALID_LIMIT` unless burst >= 1 and perSecond >= 0 are finite numbers. */
export function checkRateLimit(limit: RateLimit, name = 'rate limit'): RateLimit {
  const { burst, perSecond } = limit
  if (!Number.isFinite(burst) || burst < 1) throw LimitsError.INVALID_LIMIT(name, 'burst', burst, '>= 1')
  if (!Number.isFinite(perSecond) || perSecond < 0) {
    throw LimitsError.INVALID_LIMIT(name, 'perSecond', perSecond, '>= 0')
  }
  return limit
}

export class TokenBucket {
  tokens: number
  at: number

  constructor(limit: RateLimit, now: number) {
    this.tokens = limit.burst
    this.at = now
  }

  /** Refills for the time since the last call (a clock going backwards refills nothing). */
  refill(limit: RateLimit, now: number): this {
    const elapsed = Math.max(0, now - this.at) / 1000
    this.tokens = Math.min(limit.burst, this.tokens + elapsed * limit.perSecond)
    this.at = Math.max(this.at, now)
    return this
  }

  /** Takes one token; false when the bucket is empty (the caller refuses the request). */
  take(limit: RateLimit, now: number): boolean {
    this.refill(limit, now)
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Whether the bucket is full again (it then behaves as a new one and can be forgotten). */
  isFull(limit: RateLimit, now: number): boolean {
    return this.refill(limit, now).tokens >= limit.burst
  }
}
