/**
 * Time as the limits see it. Everything that refills, expires or retries takes a `Clock` so tests
 * drive it by hand instead of waiting (`manualClock()`), and servers pass `systemClock`.
 */
export interface Clock {
  /** Milliseconds on a monotonic-enough scale (only differences are used). */
  now(): number
}

/** The process clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() }

/** A clock that moves only when told to: for tests. */
export interface ManualClock extends Clock {
  /** Moves the clock forward by `ms` (never backwards). */
  advance(ms: number): void
  /** Sets the clock (used to test a clock that jumps). */
  set(ms: number): void
}

export function manualClock(start = 0): ManualClock {
  let t = start
  return {
    now: () => t,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms >= 0, got ${ms}`)
      t += ms
    },
    set(ms) {
      t = ms
    },
  }
}
