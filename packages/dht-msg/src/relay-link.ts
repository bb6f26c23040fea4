/**
 * One client connection as the relay sees it, whoever owns the socket: the relay's own listener
 * (a framing LineSocket) or a server that shares its connections, such as bootstrap-server.
 */
import { type LineSocket, plainAddress } from '@pyp2p/framing'
import createDebug from 'debug'
import type { RelayError } from './errors.js'
import { formatError } from './protocol.js'

const log = createDebug('pyp2p:dht-msg:server')

export interface RelayLink {
  /** The client's IP address (IPv4-mapped IPv6 as IPv4, no zone id). */
  readonly address: string
  readonly port: number
  readonly isOpen: boolean
  /** Send one line; a connection that can't take it is closed by its owner. */
  write(line: string): void
  /** Close, after `ERROR <code> <text>` when an error is given. */
  close(error?: RelayError): void
  /** Tell the owner whether the connection is waiting for messages (exempt from idle timeouts). */
  hold(held: boolean): void
}

/**
 * A connection owned by another server, as bootstrap-server's `ServiceConnection` describes it
 * (structurally; this package does not import bootstrap-server).
 */
export interface SharedConnection {
  readonly ip: string
  readonly port: number
  readonly isOpen: boolean
  send(line: string): boolean
  close(code?: string, text?: string): void
  hold?(held: boolean): void
}

export function lineSocketLink(con: LineSocket): RelayLink {
  const write = (line: string): void => {
    if (!con.isOpen) return
    try {
      con.sendLine(line)
    } catch (err) {
      log('write to %s failed: %s', con.remoteAddress, (err as Error).message)
      con.close()
    }
  }
  return {
    address: normalizeAddress(con.remoteAddress ?? ''),
    port: con.remotePort ?? 0,
    get isOpen() {
      return con.isOpen
    },
    write,
    close(error) {
      if (error !== undefined) write(formatError(error))
      con.close()
    },
    hold() {}, // the relay's own connections have no idle timeout
  }
}

export function sharedLink(conn: SharedConnection): RelayLink {
  return {
    address: normalizeAddress(conn.ip),
    port: conn.port,
    get isOpen() {
      return conn.isOpen
    },
    write(line) {
      if (conn.isOpen) conn.send(line)
    },
    close(error) {
      if (error === undefined) conn.close()
      else conn.close(error.code, error.message)
    },
    hold(held) {
      conn.hold?.(held)
    },
  }
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack listener) is 1.2.3.4; zone ids are dropped. */
export function normalizeAddress(address: string): string {
  return plainAddress(address.split('%')[0]!) // a zone id means nothing to other nodes
}
