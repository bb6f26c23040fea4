/**
 * `CHECK TCP <port> <nonce>`: the server connects back to the asking connection's observed IP at
 * `<port>`, sends `PYP2P-DIALBACK/1 <nonce>`, closes, and answers `REACHABLE TCP <port> YES|NO <reason>`.
 * The target IP is never the client's to choose (only the port), so the server cannot be pointed at a
 * third party. Bounded: one check in flight per connection (the server reads nothing more from that
 * connection until the reply is out, which also keeps replies in order), a token bucket per IP
 * (@pyp2p/limits' `RateLimiter`, on the server's clock), a cap on checks running at once, a short
 * connect timeout, and every socket and timer released on every path.
 */
import { connect, type Socket } from 'node:net'
import { type Clock, RateLimiter } from '@pyp2p/limits'
import { formatDialBackLine, formatServerMessage, LINE_TERMINATOR } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import { MAX_CHECK_BUCKETS } from './constants.js'

export interface DialBackLimits {
  /** Connect timeout (and the whole dial-back), ms. */
  readonly timeoutMs: number
  /** Checks one IP may start in a burst. */
  readonly burst: number
  /** One more check per this many ms, per IP. */
  readonly intervalMs: number
  /** Checks running at once on the whole server. */
  readonly maxPending: number
  /** Where the per-IP rate reads the time. */
  readonly clock: Clock
}

/** One check in flight: its socket and timer, so a closing connection or server can cancel it. */
interface Pending {
  readonly socket: Socket
  readonly timer: NodeJS.Timeout
}

const REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
}

export class DialBack {
  readonly #limits: DialBackLimits
  /** Per-IP buckets: `burst` checks, then one per `intervalMs`; the least recently used IP goes first. */
  readonly #perIp: RateLimiter
  readonly #pending = new Map<Connection, Pending>()
  #closed = false

  constructor(limits: DialBackLimits) {
    this.#limits = limits
    this.#perIp = new RateLimiter({
      burst: limits.burst,
      perSecond: 1000 / limits.intervalMs,
      maxKeys: MAX_CHECK_BUCKETS,
      clock: limits.clock,
    })
  }

  get pendingCount(): number {
    return this.#pending.size
  }

  /**
   * Handles `CHECK`. Returns false after replying `ERROR ERR_RATE_LIMITED` at once; true when the
   * dial-back started: `onReply` then gets the `REACHABLE` line (not called if the connection closes
   * first, see `forget`).
   */
  check(conn: Connection, port: number, nonce: string, onReply: (line: string) => void): boolean {
    if (this.#closed || this.#pending.has(conn) || this.#pending.size >= this.#limits.maxPending) {
      conn.sendError('ERR_RATE_LIMITED', 'too many dial-back checks running on this server; retry later')
      return false
    }
    if (!this.#perIp.take(conn.ip)) {
      conn.sendError('ERR_RATE_LIMITED', `too many dial-back checks from ${conn.ip}; retry later`)
      return false
    }
    // Only ever the IP this connection comes from (never an address the client names).
    const socket = connect({ host: conn.ip, port })
    const timer = setTimeout(
      () => done(`no answer within ${this.#limits.timeoutMs} ms`),
      this.#limits.timeoutMs,
    )
    const done = (reason: string | undefined): void => {
      if (this.#pending.get(conn)?.socket !== socket) return
      this.#pending.delete(conn)
      clearTimeout(timer)
      socket.destroy()
      const reply =
        reason === undefined
          ? formatServerMessage({ type: 'REACHABLE', port, reachable: true })
          : formatServerMessage({ type: 'REACHABLE', port, reachable: false, reason })
      onReply(reply)
    }
    this.#pending.set(conn, { socket, timer })
    socket.setNoDelay(true)
    socket.on('error', (err: NodeJS.ErrnoException) => done(REASONS[err.code ?? ''] ?? err.code ?? 'error'))
    socket.on('data', noop) // the probe reads nothing; whatever arrives is discarded
    socket.once('connect', () => {
      socket.end(`${formatDialBackLine(nonce)}${LINE_TERMINATOR}`, () => done(undefined))
    })
    return true
  }

  /** The asking connection closed: its check is cancelled (no reply to send). */
  forget(conn: Connection): void {
    const p = this.#pending.get(conn)
    if (p === undefined) return
    this.#pending.delete(conn)
    clearTimeout(p.timer)
    p.socket.destroy()
  }

  /** Drops buckets that have refilled completely (they are the same as no bucket). */
  sweep(now: number): void {
    this.#perIp.sweep(now)
  }

  /** Cancels every check (the server closes). */
  close(): void {
    this.#closed = true
    for (const conn of [...this.#pending.keys()]) this.forget(conn)
    this.#perIp.clear()
  }
}

function noop(): void {}
