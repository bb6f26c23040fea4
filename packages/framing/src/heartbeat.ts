/**
 * An application-level keep-alive for a line connection whose peer speaks it (two pyp2p nodes on a
 * secure connection): when nothing has been received for `interval` ms, send the `ping` line; when
 * still nothing has arrived `timeout` ms later, the peer is dead (a crash behind a NAT, a cut link, a
 * NAT that forgot the flow) and the connection fails with `ERR_KEEPALIVE_TIMEOUT`. Anything received
 * counts as a sign of life, so a busy connection never pings. A received `ping` is answered with
 * `pong`; both lines are consumed here and never reach the reader. A vanished peer is noticed within
 * `interval + timeout` ms of the last bytes it sent.
 *
 * TCP keep-alive alone cannot do this from Node: only the idle time before the first probe is settable
 * (`setKeepAlive`), the probe interval and count are the kernel's (Linux: 75 s x 9), so a dead peer
 * takes over 11 minutes to notice.
 */
import { FramingError } from './errors.js'

export interface HeartbeatOptions {
  /** Silence (nothing received) after which `ping` is sent, ms. */
  interval: number
  /** How long the peer has to send anything after a ping, ms; then `ERR_KEEPALIVE_TIMEOUT`. */
  timeout: number
  /** The ping line (answered with `pong`); both are consumed, never delivered. */
  ping: string
  pong: string
  /** Milliseconds now. Default `Date.now` (which vitest's fake timers drive). */
  now?: () => number
}

export interface HeartbeatHooks {
  /** Sends a line; throws when the connection cannot (closed, send buffer full). */
  send(line: string): void
  /** The peer is dead: end the connection with this error. */
  fail(error: FramingError): void
}

export class Heartbeat {
  readonly #o: Required<HeartbeatOptions>
  readonly #hooks: HeartbeatHooks
  #last: number
  #pingedAt: number | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  /** Throws a `RangeError` for an interval or timeout that is not an integer >= 1. */
  constructor(options: HeartbeatOptions, hooks: HeartbeatHooks) {
    for (const name of ['interval', 'timeout'] as const) {
      const v = options[name]
      if (!Number.isSafeInteger(v) || v < 1)
        throw new RangeError(`heartbeat.${name} must be an integer >= 1, got ${v}`)
    }
    this.#o = { now: Date.now, ...options }
    this.#hooks = hooks
    this.#last = this.#o.now()
    this.#arm(this.#last + this.#o.interval)
  }

  /** When something was last received (ms, the heartbeat's clock). */
  get lastHeard(): number {
    return this.#last
  }

  /** Something arrived from the peer. */
  heard(): void {
    this.#last = this.#o.now()
  }

  /** Whether `line` is a heartbeat line (answered if a ping); such lines are not delivered. */
  consume(line: string): boolean {
    if (line === this.#o.pong) return true
    if (line !== this.#o.ping) return false
    try {
      this.#hooks.send(this.#o.pong)
    } catch {
      // the connection is closing: nothing to answer
    }
    return true
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }

  #arm(at: number): void {
    if (this.#stopped) return
    clearTimeout(this.#timer)
    this.#timer = setTimeout(this.#check, Math.max(0, at - this.#o.now()))
    this.#timer.unref()
  }

  #check = (): void => {
    const { interval, timeout, ping } = this.#o
    const now = this.#o.now()
    if (this.#pingedAt !== undefined) {
      if (this.#last < this.#pingedAt) {
        if (now - this.#pingedAt >= timeout) {
          this.#hooks.fail(FramingError.KEEPALIVE_TIMEOUT(interval, timeout))
          return
        }
        this.#arm(this.#pingedAt + timeout)
        return
      }
      this.#pingedAt = undefined
    }
    const due = this.#last + interval
    if (now < due) {
      this.#arm(due)
      return
    }
    try {
      this.#hooks.send(ping)
    } catch (err) {
      this.#hooks.fail(err instanceof FramingError ? err : FramingError.CONNECTION_CLOSED(err))
      return
    }
    this.#pingedAt = now
    this.#arm(now + timeout)
  }
}
