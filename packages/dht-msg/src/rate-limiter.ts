/**
 * Token buckets keyed by a string (a node id, an IP address), with a bound on the number of keys.
 */

export interface RateLimit {
  /** Bucket size: how many may come at once. */
  burst: number
  /** Tokens added per second. */
  perSecond: number
}

interface Bucket {
  tokens: number
  at: number
}

export class RateLimiter {
  readonly #limit: RateLimit
  readonly #maxKeys: number
  // A Map iterates in insertion order; re-inserting on use keeps the least recently used first.
  readonly #buckets = new Map<string, Bucket>()

  constructor(limit: RateLimit, maxKeys: number) {
    this.#limit = limit
    this.#maxKeys = maxKeys
  }

  /** Take one token for `key`; false when its bucket is empty (the caller refuses the request). */
  take(key: string, now: number): boolean {
    const b = this.#refill(key, now)
    this.#buckets.delete(key)
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxKeys) {
      const oldest = this.#buckets.keys().next()
      if (!oldest.done) this.#buckets.delete(oldest.value)
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  /** Forget keys whose buckets are full again (they would behave the same as new ones). */
  sweep(now: number): void {
    for (const [key] of this.#buckets) {
      if (this.#refill(key, now).tokens >= this.#limit.burst) this.#buckets.delete(key)
    }
  }

  get size(): number {
    return this.#buckets.size
  }

  #refill(key: string, now: number): Bucket {
    const b = this.#buckets.get(key) ?? { tokens: this.#limit.burst, at: now }
    const elapsed = Math.max(0, now - b.at) / 1000
    b.tokens = Math.min(this.#limit.burst, b.tokens + elapsed * this.#limit.perSecond)
    b.at = now
    return b
  }
}
