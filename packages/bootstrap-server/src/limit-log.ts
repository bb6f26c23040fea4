/**
 * Operators see attacks: every limit that fires is counted by name and network prefix (@pyp2p/limits'
 * `LimitCounter`, shown by `server.stats()`) and logged as a `limit reached` warning with its name,
 * prefix and the number of hits since the last such line — at most one line per (limit, prefix) per
 * 10 s, so an attack at full rate is visible in `--json` logs without flooding them.
 */
import { type Clock, LimitCounter, type LimitHitCount } from '@pyp2p/limits'
import type { LogFields, Logger } from './logger.js'

export class LimitLog {
  readonly #counter: LimitCounter
  readonly #log: Logger

  constructor(log: Logger, clock: Clock) {
    this.#log = log
    this.#counter = new LimitCounter({ clock })
  }

  /** `limit` (e.g. `connections.per-prefix`) fired for `prefix` ('' for a server-wide limit). */
  hit(limit: string, prefix: string, fields?: LogFields): void {
    const hits = this.#counter.hit(limit, prefix)
    if (hits > 0) this.#log.warn('limit reached', { limit, prefix, hits, ...fields })
  }

  /** Hits per limit name since start. */
  totals(): Record<string, number> {
    return this.#counter.totals()
  }

  /** The (limit, prefix) pairs that fired most. */
  top(n?: number): LimitHitCount[] {
    return this.#counter.top(n)
  }
}
