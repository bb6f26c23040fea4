/**
 * What the command handlers and the table cleanup need from the server: the tables, the options, the
 * clock and a few server-wide actions. Types only; the server builds one (server.ts).
 */
import type { ClusterHooks } from './cluster/hooks.js'
import type { Connection } from './connection.js'
import type { LogFields } from './logger.js'
import type { NodeTable } from './node-table.js'
import type { ResolvedOptions } from './options.js'
import type { PunchEnd, PunchTable } from './punch-table.js'

export interface CommandContext {
  readonly opts: ResolvedOptions
  readonly nodes: NodeTable
  readonly punches: PunchTable
  readonly allowLoopback: boolean
  /** The other instances (scale-out on Redis), or undefined: this process alone, in memory. */
  readonly cluster: ClusterHooks | undefined
  /** The server's clock (the `clock` option), ms. */
  now(): number
  /** `CHECK`: dial back to the connection's IP at `port` (see dial-back.ts); replies when done. */
  check(conn: Connection, port: number, nonce: string): void
  /** The connection's hold state, nodes or punches changed: re-file it for the idle sweep. */
  refreshIdle(conn: PunchEnd): void
  /** Sends a PING to measure the connection's round trip, unless one is already out. */
  ping(conn: PunchEnd): void
  /**
   * Holds back `conn`'s next lines (its socket paused) until the returned function is called, for a
   * command whose reply waits for something (a dial-back, Redis): replies stay in order.
   */
  hold(conn: Connection): () => void
  /** Counts a FIGHT pair sent. */
  coordinated(): void
  /** A limit fired: counted in `stats()` and logged (limit-log.ts). */
  limitHit(limit: string, prefix: string, fields?: LogFields): void
}
