/**
 * `CHECK TCP <port> <nonce>`: the server connects back to the asking connection's observed IP at
 * `<port>`, sends `PYP2P-DIALBACK/1 <nonce>`, closes, and answers `REACHABLE TCP <port> YES|NO <reason>`.
 * The target IP is never the client's to choose (only the port), so the server cannot be pointed at a
 * third party. Bounded: one check in flight per connection (the server reads nothing more from that
 * connection until the reply is out, which also keeps replies in order), token buckets per IP and per
 * network prefix (@pyp2p/limits' `RateLimiter`, on the server's clock), caps on checks running at once
 * in total, per IP and per prefix (`FairTable`), a short connect timeout, and every socket and timer
 * released on every path.
 */
import { connect, type Socket } from 'node:net'
import { type Clock, FairTable, type PrefixLengths, RateLimiter } from '@pyp2p/limits'
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
  /** Checks running at once for one IP (an IPv6 /64), and for one network prefix. */
  readonly maxPendingPerIp: number
  readonly maxPendingPerPrefix: number
  /** Checks one prefix may start in a burst, then one per `prefixIntervalMs`. */
  readonly prefixBurst: number
  readonly prefixIntervalMs: number
  readonly lengths: PrefixLengths
  /** A limit refused a check (for the server's limit counters). */
  readonly onLimit?: (limit: string, prefix: string, ip: string) => void
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
  readonly #perPrefix: RateLimiter
  readonly #pending = new Map<Connection, Pending>()
  /** The pending checks, counted per IP and prefix (capacity `maxPending`). */
  readonly #running: FairTable<Connection>
  #closed = false

  constructor(limits: DialBackLimits) {
    this.#limits = limits
    this.#perIp = new RateLimiter({
      burst: limits.burst,
      perSecond: 1000 / limits.intervalMs,
      maxKeys: MAX_CHECK_BUCKETS,
      clock: limits.clock,
    })
    this.#perPrefix = new RateLimiter({
      burst: limits.prefixBurst,
      perSecond: 1000 / limits.prefixIntervalMs,
      maxKeys: MAX_CHECK_BUCKETS,
      clock: limits.clock,
    })
    this.#running = new FairTable({
      capacity: limits.maxPending,
      maxPerIp: limits.maxPendingPerIp,
      maxPerPrefix: limits.maxPendingPerPrefix,
      lengths: limits.lengths,
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
    const running = this.#running.admit(conn.ip)
    const { host, prefix } = running.keys
    const refuse = (limit: string, text: string): false => {
      this.#limits.onLimit?.(limit, prefix, conn.ip)
      conn.sendError('ERR_RATE_LIMITED', text)
      return false
    }
    if (this.#closed || this.#pending.has(conn) || (!running.ok && running.refusedBy === 'full')) {
      return refuse('checks.full', 'too many dial-back checks running on this server; retry later')
    }
    if (!running.ok) {
      const at = running.refusedBy === 'per-ip' ? `ip=${host}` : `prefix=${prefix}`
      return refuse(
        `checks.running.${running.refusedBy}`,
        `${at} too many dial-back checks running; retry later`,
      )
    }
    if (!this.#perIp.take(host)) {
      return refuse('checks.rate.per-ip', `too many dial-back checks from ${conn.ip}; retry later`)
    }
    if (!this.#perPrefix.take(prefix)) {
      return refuse(
        'checks.rate.per-prefix',
        `prefix=${prefix} too many dial-back checks from this network; retry later`,
      )
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
      this.#running.delete(conn)
      clearTimeout(timer)
      socket.destroy()
      const reply =
        reason === undefined
          ? formatServerMessage({ type: 'REACHABLE', port, reachable: true })
          : formatServerMessage({ type: 'REACHABLE', port, reachable: false, reason })
      onReply(reply)
    }
    this.#pending.set(conn, { socket, timer })
    this.#running.add(conn, running.keys)
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
    this.#running.delete(conn)
    clearTimeout(p.timer)
    p.socket.destroy()
  }

  /** Drops buckets that have refilled completely (they are the same as no bucket). */
  sweep(now: number): void {
    this.#perIp.sweep(now)
    this.#perPrefix.sweep(now)
  }

  /** Cancels every check (the server closes). */
  close(): void {
    this.#closed = true
    for (const conn of [...this.#pending.keys()]) this.forget(conn)
    this.#perIp.clear()
    this.#perPrefix.clear()
  }
}

function noop(): void {}
