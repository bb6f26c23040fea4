/**
 * `BOOTSTRAP` on Redis without a Redis round trip per request: each instance keeps a bounded pool of
 * entries sampled from Redis (up to `size` of each node type) and lists from it, refreshing it in the
 * background once it is half `refreshMs` old (stale-while-revalidate). Bounds, with R = `refreshMs`:
 * - a pool is served only while younger than R, measured from the start of the refresh that read it:
 *   a node cleared (or expired) at another instance is listed here for at most R ms more;
 * - a BOOTSTRAP waits for Redis only when the pool is older than R (cold: first request, or idle for
 *   R): that wait is bounded by `redisTimeoutMs` like every store call;
 * - while the store is `degraded`, the last pool is served (no wait) until it is `maxStaleMs` old,
 *   then this instance lists its own nodes only;
 * - this instance's own nodes never come from the pool but from its tables (the caller merges them):
 *   a node registered here is listed here at once, one cleared here is gone here at once.
 * R = 0 turns the pool off: every BOOTSTRAP asks Redis (the strict behaviour).
 */
import type { ClusterStore, SharedNode } from '../store/cluster-store.js'

export interface ListingCacheOptions {
  /** R: the oldest pool served while Redis answers (ms); 0 = no pool. */
  readonly refreshMs: number
  /** Entries sampled per node type. */
  readonly size: number
  /** The oldest pool served while Redis is away (ms). */
  readonly maxStaleMs: number
  /** Whether simultaneous nodes are listed at all (else only passive ones are sampled). */
  readonly simultaneous: boolean
  readonly now: () => number
}

export interface ListingCacheStats {
  /** BOOTSTRAPs served from the pool without waiting for Redis. */
  readonly hits: number
  /** BOOTSTRAPs that waited for a refresh (cold pool). */
  readonly waits: number
  /** BOOTSTRAPs served from a pool older than R while Redis was away. */
  readonly stale: number
  /** Refreshes started, and those Redis did not answer. */
  readonly refreshes: number
  readonly failures: number
  /** Entries in the pool now (other instances' nodes). */
  readonly size: number
}

/** The pool to list from: other instances' entries, and the share of the whole listing they stand for. */
export interface Listing {
  readonly remote: SharedNode[]
  /**
   * Estimated fraction of all listed nodes that are this instance's (0..1), from a full sample;
   * `undefined` when the sample was not full: `remote` is then every other instance's entry.
   */
  readonly localShare: number | undefined
}

export class ListingCache {
  readonly #store: ClusterStore
  readonly #o: ListingCacheOptions
  #pool: Listing = { remote: [], localShare: undefined }
  #readAt = Number.NEGATIVE_INFINITY
  #inflight: Promise<boolean> | undefined
  #hits = 0
  #waits = 0
  #stale = 0
  #refreshes = 0
  #failures = 0

  constructor(store: ClusterStore, o: ListingCacheOptions) {
    this.#store = store
    this.#o = o
  }

  stats(): ListingCacheStats {
    return {
      hits: this.#hits,
      waits: this.#waits,
      stale: this.#stale,
      refreshes: this.#refreshes,
      failures: this.#failures,
      size: this.#pool.remote.length,
    }
  }

  /**
   * The pool now (a hit: no Redis round trip), or a promise of it after a refresh (cold pool), or
   * `undefined`: list this instance's nodes only. `want`: entries one reply may need (R = 0 reads
   * just these).
   */
  listing(want: number): Listing | Promise<Listing | undefined> | undefined {
    const { refreshMs, maxStaleMs } = this.#o
    const age = this.#o.now() - this.#readAt
    if (refreshMs > 0 && age < refreshMs) {
      if (age >= refreshMs / 2) void this.#refresh()
      this.#hits++
      return this.#pool
    }
    if (refreshMs === 0) {
      this.#waits++
      this.#refreshes++
      return this.#store.sample(want, this.#o.simultaneous).then((shared) => {
        if (shared !== undefined) return this.#toListing(shared, want)
        this.#failures++
        return undefined
      })
    }
    if (this.#store.status === 'degraded') {
      void this.#refresh()
      if (age >= maxStaleMs) return undefined
      this.#stale++
      return this.#pool
    }
    this.#waits++
    return this.#refresh().then((ok) => {
      if (ok) return this.#pool
      return this.#o.now() - this.#readAt < maxStaleMs ? this.#pool : undefined
    })
  }

  /** Reads a new pool (one at a time); true when Redis answered. */
  #refresh(): Promise<boolean> {
    if (this.#inflight !== undefined) return this.#inflight
    const started = this.#o.now()
    this.#refreshes++
    const run = this.#store.sample(this.#o.size, this.#o.simultaneous).then((shared) => {
      this.#inflight = undefined
      if (shared === undefined) {
        this.#failures++
        return false
      }
      this.#pool = this.#toListing(shared, this.#o.size)
      this.#readAt = started
      return true
    })
    this.#inflight = run
    return run
  }

  #toListing(shared: SharedNode[], asked: number): Listing {
    const me = this.#store.instance
    const remote = shared.filter((n) => n.instance !== me)
    const own = shared.length - remote.length
    // A full sample is a random part of a bigger listing: its share of own entries estimates ours.
    // One that is not full is the whole listing (the caller then weighs by its own count).
    const full = shared.length >= asked
    return { remote, localShare: full ? own / shared.length : undefined }
  }
}
