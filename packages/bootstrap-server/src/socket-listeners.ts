/**
 * The glue between `net.Socket`s and connections. The listeners are functions shared by every socket
 * (the connection is kept on the socket under a symbol), so a connection costs no closures.
 */
import type { Socket } from 'node:net'
import { plainAddress } from '@pyp2p/framing'
import { formatError, LINE_TERMINATOR } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'

const CONN = Symbol('pyp2p.connection')
type Tagged = Socket & { [CONN]?: Connection }

export function noop(): void {}

function onData(this: Tagged, chunk: Buffer): void {
  const conn = this[CONN]
  conn?.host.onData(conn, chunk)
}

function onClose(this: Tagged): void {
  const conn = this[CONN]
  conn?.host.onClose(conn)
}

/** Routes the socket's data and close events to `conn.host` (one property on the socket, no closures). */
export function attachConnection(socket: Socket, conn: Connection): void {
  ;(socket as Tagged)[CONN] = conn
  socket.on('data', onData)
  socket.on('close', onClose)
}

/** The peer's address as other nodes know it (framing's `plainAddress`); undefined stays undefined. */
export function plainIp(ip: string | undefined): string | undefined {
  return ip === undefined ? undefined : plainAddress(ip)
}

/** Refuses a connection with one ERROR line, without framing or state. */
export function reject(socket: Socket, code: string, text: string): void {
  socket.on('error', noop)
  socket.end(`${formatError(code, text)}${LINE_TERMINATOR}`, () => socket.destroy())
}
