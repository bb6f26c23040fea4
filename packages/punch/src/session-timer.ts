/**
 * One named timer of a {@link RendezvousSession} (keep-alive, retry, preferred-server probe, refresh)
 * on the session's injectable timers: at most one pending at a time, cleared on every path.
 */
import type { SessionTimers } from './session-options.js'

export class SessionTimer {
  readonly #timers: SessionTimers
  /** Whether a pending timer lets the process exit (keep-alives and refreshes must not hold it). */
  readonly #unref: boolean
  #handle: unknown
  #armed = false

  constructor(timers: SessionTimers, unref: boolean) {
    this.#timers = timers
    this.#unref = unref
  }

  get armed(): boolean {
    return this.#armed
  }

  /** Replaces any pending run with `fn` after `ms`. */
  arm(fn: () => void, ms: number): void {
    this.clear()
    this.#armed = true
    const handle = this.#timers.setTimeout(() => {
      if (this.#handle !== handle) return
      this.#armed = false
      this.#handle = undefined
      fn()
    }, ms)
    if (this.#unref) (handle as { unref?: () => void } | undefined)?.unref?.()
    this.#handle = handle
  }

  clear(): void {
    if (this.#armed) this.#timers.clearTimeout(this.#handle)
    this.#armed = false
    this.#handle = undefined
  }
}
