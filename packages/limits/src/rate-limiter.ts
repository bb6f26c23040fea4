/**
 * Token buckets keyed by a string (an IP address, a node id, a network prefix), with a bound on how
 * many keys are kept: past it, the least recently used key is forgotten (it starts full again, which
 * errs towards serving). The one rate limiter of pyp2p: the bootstrap server, its dial-back check
 * and the message relay all use it.
 */
import { type Clock, systemClock } from './clock.js'
import { LimitsError } from './errors.js'
import { checkRateLimit, type RateLimit, TokenBucket } from './token-bucket.js'

export interface RateLimiterOptions extends RateLimit {
  /** Keys kept at most (least recently used forgotten first). */
  maxKeys: number
  /** Default `systemClock`. */
  clock?: Clock
}

export class RateLimiter {
  readonly limit: RateLimit
  readonly #maxKeys: number
  readonly #clock: Clock
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used first.
  readonly #buckets = new Map<string, TokenBucket>()

  constructor(options: RateLimiterOptions) {
    this.limit = checkRateLimit({ burst: options.burst, perSecond: options.perSecond })
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw LimitsError.INVALID_LIMIT('rate limiter', 'maxKeys', options.maxKeys, 'an integer >= 1')
    }
    this.#maxKeys = options.maxKeys
    this.#clock = options.clock ?? systemClock
  }

  /** Takes one token for `key`; false when its bucket is empty (the caller refuses the request). */
  take(key: string, now: number = this.#clock.now()): boolean {
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limit, now)
    } else {
      this.#buckets.delete(key)
    }
    this.#buckets.set(key, bucket)
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next()
      if (!oldest.done) this.#buckets.delete(oldest.value)
    }
    return bucket.take(this.limit, now)
  }

  /** Forgets keys whose buckets are full again (they would behave the same as new ones). */
  sweep(now: number = this.#clock.now()): void {
    for (const [key, bucket] of this.#buckets) {
      if (bucket.isFull(this.limit, now)) this.#buckets.delete(key)
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.#buckets.clear()
  }

  /** Keys held now. */
  get size(): number {
    return this.#buckets.size
  }
}
