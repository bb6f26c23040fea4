/**
 * What the command handlers and the table cleanup need from the server: the tables, the options, the
 * clock and a few server-wide actions. Types only; the server builds one (server.ts).
 */
import type { Connection } from './connection.js'
import type { LogFields } from './logger.js'
import type { NodeTable } from './node-table.js'
import type { ResolvedOptions } from './options.js'
import type { PunchTable } from './punch-table.js'

export interface CommandContext {
  readonly opts: ResolvedOptions
  readonly nodes: NodeTable
  readonly punches: PunchTable
  readonly allowLoopback: boolean
  /** The server's clock (the `clock` option), ms. */
  now(): number
  /** `CHECK`: dial back to the connection's IP at `port` (see dial-back.ts); replies when done. */
  check(conn: Connection, port: number, nonce: string): void
  /** The connection's hold state, nodes or punches changed: re-file it for the idle sweep. */
  refreshIdle(conn: Connection): void
  /** Sends a PING to measure the connection's round trip, unless one is already out. */
  ping(conn: Connection): void
  /** Counts a FIGHT pair sent. */
  coordinated(): void
  /** A limit fired: counted in `stats()` and logged (limit-log.ts). */
  limitHit(limit: string, prefix: string, fields?: LogFields): void
}
