/**
 * Limits on the punches other nodes make us take part in, so no node can make us punch without end
 * (issue 18): punches running at once, challenges waiting for one of those slots (and how long they
 * may wait), and punches per minute from one requester (@pyp2p/limits' `RateLimiter`, the project's
 * one rate limiter). Every refusal is a typed `UnlError` `ERR_PUNCH_LIMITED` naming the limit; the
 * puncher answers the server `REJECT <punch-id> <reason>` with it, so the candidate gets
 * `ERR_PUNCH_REJECTED` at once instead of waiting for the challenge timeout.
 */
import { type Clock, RateLimiter, systemClock } from '@pyp2p/limits'
import {
  PUNCH_MAX_CONCURRENT,
  PUNCH_MAX_PENDING,
  PUNCH_PENDING_MAX_WAIT_MS,
  PUNCH_PER_REQUESTER_BURST,
  PUNCH_PER_REQUESTER_PER_MINUTE,
  PUNCH_REQUESTERS_TRACKED,
} from './constants.js'
import { UnlError } from './errors.js'

export interface PunchLimits {
  /** Punches we take part in as the target at once. Default {@link PUNCH_MAX_CONCURRENT}. */
  maxConcurrent?: number
  /** Challenges waiting for a free slot; more are refused. Default {@link PUNCH_MAX_PENDING}. */
  maxPending?: number
  /** How long a challenge may wait for a slot, ms; older ones are refused. Default {@link PUNCH_PENDING_MAX_WAIT_MS}. */
  maxWaitMs?: number
  /** Punches one requester (candidate node id) may start in a burst. Default {@link PUNCH_PER_REQUESTER_BURST}. */
  perRequesterBurst?: number
  /** Then this many per minute. Default {@link PUNCH_PER_REQUESTER_PER_MINUTE}. */
  perRequesterPerMinute?: number
  /** Where the rate limit and the waiting time read the time. Default `systemClock`. */
  clock?: Clock
}

/**
 * Which limit refused a punch (`UnlError.limit`): `concurrent` (every slot taken and no waiting
 * allowed), `pending` (too many waiting, or waited too long), `per-requester` (the rate limit).
 */
export type PunchLimit = 'concurrent' | 'pending' | 'per-requester'

interface Waiting<T> {
  item: T
  since: number
}

/** What happens to one challenge: it runs now, waits for a slot, or is refused (why). */
export type PunchAdmission = 'run' | 'queued' | UnlError

/** Every limit is checked at construction: `UnlError` `ERR_INVALID_OPTION` names the one out of range. */
export class PunchGuard<T> {
  readonly #maxConcurrent: number
  readonly #maxPending: number
  readonly #maxWait: number
  readonly #clock: Clock
  readonly #perRequester: RateLimiter
  readonly #queue: Waiting<T>[] = []
  #running = 0

  constructor(limits: PunchLimits = {}) {
    const { clock, ...given } = limits
    const l = resolvePunchLimits(given)
    this.#maxConcurrent = l.maxConcurrent
    this.#maxPending = l.maxPending
    this.#maxWait = l.maxWaitMs
    this.#clock = clock ?? systemClock
    this.#perRequester = new RateLimiter({
      burst: l.perRequesterBurst,
      perSecond: l.perRequesterPerMinute / 60,
      maxKeys: PUNCH_REQUESTERS_TRACKED,
      clock: this.#clock,
    })
  }

  /** Punches running now. */
  get running(): number {
    return this.#running
  }

  /** Challenges waiting for a slot now. */
  get pending(): number {
    return this.#queue.length
  }

  /** A challenge from `requester` arrived: `run` (a slot is now taken), `queued`, or the refusal. */
  offer(requester: string, item: T): PunchAdmission {
    if (!this.#perRequester.take(requester)) {
      const { burst, perSecond } = this.#perRequester.limit
      return UnlError.PUNCH_LIMITED(
        'per-requester',
        `${requester} asked for more than ${burst} punches at once or ${Math.round(perSecond * 60)} a minute`,
      )
    }
    if (this.#running < this.#maxConcurrent) {
      this.#running++
      return 'run'
    }
    if (this.#queue.length >= this.#maxPending) {
      return UnlError.PUNCH_LIMITED(
        this.#maxPending === 0 ? 'concurrent' : 'pending',
        `${this.#maxConcurrent} punches running and ${this.#maxPending} challenges waiting already`,
      )
    }
    this.#queue.push({ item, since: this.#clock.now() })
    return 'queued'
  }

  /**
   * A punch ended: its slot goes to the oldest waiting challenge that is still fresh (`run`, its slot
   * taken); those that waited longer than `maxWaitMs` are handed back in `stale` to be refused (the
   * server's challenge timeout would end them soon anyway).
   */
  release(): { run: T | undefined; stale: { item: T; error: UnlError }[] } {
    this.#running = Math.max(0, this.#running - 1)
    const stale: { item: T; error: UnlError }[] = []
    const now = this.#clock.now()
    for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
      const waited = now - next.since
      if (waited <= this.#maxWait) {
        this.#running++
        return { run: next.item, stale }
      }
      const why = `waited ${waited} ms for a free punch slot (at most ${this.#maxWait} ms)`
      stale.push({ item: next.item, error: UnlError.PUNCH_LIMITED('pending', why) })
    }
    return { run: undefined, stale }
  }

  /** Empties the queue (the puncher closes); returns what waited. */
  drain(): T[] {
    return this.#queue.splice(0).map((w) => w.item)
  }
}

/** The numeric punch limits, without the clock. */
export type PunchLimitValues = Required<Omit<PunchLimits, 'clock'>>

const RANGES: Record<keyof PunchLimitValues, [min: number, max: number, fallback: number]> = {
  maxConcurrent: [1, 100_000, PUNCH_MAX_CONCURRENT],
  maxPending: [0, 100_000, PUNCH_MAX_PENDING],
  maxWaitMs: [1, 3_600_000, PUNCH_PENDING_MAX_WAIT_MS],
  perRequesterBurst: [1, 100_000, PUNCH_PER_REQUESTER_BURST],
  perRequesterPerMinute: [1, 6_000_000, PUNCH_PER_REQUESTER_PER_MINUTE],
}

/**
 * Fills in the defaults and checks every limit (an integer in range, no unknown names), the one check
 * for `PunchGuard` and for options that carry punch limits (Net's `punchLimits`). A bad value throws
 * `invalid(<prefix>.<name>, value, expected)`: by default UnlError `ERR_INVALID_OPTION` with field
 * `limits.<name>`.
 */
export function resolvePunchLimits(
  given: Omit<PunchLimits, 'clock'> | undefined,
  prefix = 'limits',
  invalid: (name: string, value: unknown, expected: string) => Error = UnlError.INVALID_OPTION,
): PunchLimitValues {
  if (given !== undefined && (typeof given !== 'object' || given === null))
    throw invalid(prefix, given, 'an object of punch limits')
  const out = {} as PunchLimitValues
  for (const [name, [min, max, fallback]] of Object.entries(RANGES) as [
    keyof PunchLimitValues,
    [number, number, number],
  ][]) {
    const v: unknown = given?.[name] ?? fallback
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw invalid(`${prefix}.${name}`, v, `a number >= ${min}`)
    if (!Number.isSafeInteger(v) || v > max)
      throw invalid(`${prefix}.${name}`, v, `an integer ${min}..${max}`)
    out[name] = v
  }
  for (const name of Object.keys(given ?? {}))
    if (!(name in RANGES)) throw invalid(`${prefix}.${name}`, name, Object.keys(RANGES).join(', '))
  return out
}
