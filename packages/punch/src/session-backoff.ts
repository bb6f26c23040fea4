/**
 * The reconnect delays of a {@link RendezvousSession}: exponential (doubling from `minMs` to `maxMs`)
 * with jitter, so thousands of nodes that lost the same server do not come back in lock-step (AWS
 * Architecture Blog, "Exponential Backoff And Jitter"; hyperdht's announcer refresh does the same).
 * The jitter only ever shortens a delay, so `maxMs` stays a hard bound on the wait between attempts.
 */

export interface BackoffOptions {
  /** First delay, ms. */
  minMs: number
  /** Largest delay (the doubling stops there; jitter never exceeds it), ms. */
  maxMs: number
  /** Fraction (0..1) of each delay that is random: a delay `d` becomes `d × (1 − jitter × random())`. */
  jitter: number
  /** Uniform in [0, 1). Injectable so tests know every delay. */
  random: () => number
}

export class Backoff {
  readonly #o: BackoffOptions
  #base: number
  #attempts = 0

  constructor(options: BackoffOptions) {
    this.#o = options
    this.#base = options.minMs
  }

  /** Attempts since the last `reset()`. */
  get attempts(): number {
    return this.#attempts
  }

  /** The delay before the next attempt (jittered), then doubles the base for the one after. */
  next(): number {
    const { maxMs, jitter, random } = this.#o
    const base = Math.min(this.#base, maxMs)
    this.#base = Math.min(base * 2, maxMs)
    this.#attempts++
    const r = Math.min(Math.max(random(), 0), 1)
    return Math.max(1, Math.round(base * (1 - jitter * r)))
  }

  /** What the next un-jittered delay would be (for events and logs). */
  get nextBase(): number {
    return Math.min(this.#base, this.#o.maxMs)
  }

  /** Success: the next failure starts again from `minMs`. */
  reset(): void {
    this.#base = this.#o.minMs
    this.#attempts = 0
  }
}
