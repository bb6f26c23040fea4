/**
 * Operators must see attacks: every limit that fires is counted by name, and by name and prefix (which
 * network is pushing), cheaply enough to run at attack rate. `hit()` also says whether this hit should
 * be logged, at most once per `logIntervalMs` per (limit, prefix), so a flood of refusals does not
 * become a flood of log lines (the counts keep every hit).
 */
import { type Clock, systemClock } from './clock.js'
import { DEFAULT_LOG_INTERVAL_MS, DEFAULT_MAX_COUNTED_KEYS } from './constants.js'
import { LimitsError } from './errors.js'

export interface LimitCounterOptions {
  /** (limit, prefix) pairs counted at most; the least recently hit is forgotten first. Default 1,024. */
  readonly maxKeys?: number
  /** One "log it" per (limit, prefix) per this many ms. Default 10,000. */
  readonly logIntervalMs?: number
  /** Default `systemClock`. */
  readonly clock?: Clock
}

/** One (limit, prefix) pair and how often it fired. */
export interface LimitHitCount {
  readonly limit: string
  readonly prefix: string
  readonly count: number
}

interface PairState {
  count: number
  loggedAt: number
  /** Hits since the last one that was logged. */
  unlogged: number
}

export class LimitCounter {
  readonly #byLimit = new Map<string, number>()
  readonly #byPair = new Map<string, PairState>()
  readonly #maxKeys: number
  readonly #logInterval: number
  readonly #clock: Clock

  constructor(options: LimitCounterOptions = {}) {
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_COUNTED_KEYS
    this.#logInterval = options.logIntervalMs ?? DEFAULT_LOG_INTERVAL_MS
    if (!Number.isSafeInteger(this.#maxKeys) || this.#maxKeys < 1) {
      throw LimitsError.INVALID_LIMIT('limit counter', 'maxKeys', this.#maxKeys, 'an integer >= 1')
    }
    if (!(this.#logInterval >= 0)) {
      throw LimitsError.INVALID_LIMIT('limit counter', 'logIntervalMs', this.#logInterval, '>= 0')
    }
    this.#clock = options.clock ?? systemClock
  }

  /**
   * Counts one hit of `limit` (a stable name, e.g. `connections.per-prefix`) from `prefix` (or '' when
   * the limit is global). Returns how many hits of the pair went unlogged including this one when this
   * hit should be logged, 0 otherwise.
   */
  hit(limit: string, prefix = ''): number {
    this.#byLimit.set(limit, (this.#byLimit.get(limit) ?? 0) + 1)
    const key = `${limit}\u0000${prefix}`
    const now = this.#clock.now()
    let s = this.#byPair.get(key)
    if (s === undefined) {
      s = { count: 0, loggedAt: Number.NEGATIVE_INFINITY, unlogged: 0 }
      if (this.#byPair.size >= this.#maxKeys) {
        const oldest = this.#byPair.keys().next()
        if (!oldest.done) this.#byPair.delete(oldest.value)
      }
    } else {
      this.#byPair.delete(key) // re-inserted below: most recently hit last
    }
    this.#byPair.set(key, s)
    s.count++
    s.unlogged++
    if (now - s.loggedAt < this.#logInterval) return 0
    s.loggedAt = now
    const n = s.unlogged
    s.unlogged = 0
    return n
  }

  /** Hits per limit name since start. */
  totals(): Record<string, number> {
    return Object.fromEntries(this.#byLimit)
  }

  /** The `n` (limit, prefix) pairs with the most hits, most first. */
  top(n = 10): LimitHitCount[] {
    const all: LimitHitCount[] = []
    for (const [key, s] of this.#byPair) {
      const i = key.indexOf('\u0000')
      all.push({ limit: key.slice(0, i), prefix: key.slice(i + 1), count: s.count })
    }
    return all.sort((a, b) => b.count - a.count).slice(0, n)
  }

  clear(): void {
    this.#byLimit.clear()
    this.#byPair.clear()
  }
}
