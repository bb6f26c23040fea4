/**
 * The secure handshake must read a connection's first bytes, so the upgrade step needs the raw socket.
 * Connections that arrive as a `LineSocket` (a Puncher's) are taken apart here: one made with
 * `rawLineOptions()` never reads its socket, and gives it up whole.
 */
import type { Socket } from 'node:net'
import { PassThrough } from 'node:stream'
import type { LineLimits, LineSocket, LineSocketOptions } from '@pyp2p/framing'
import { UnlError } from './errors.js'

/**
 * Options for a `LineSocket` that leaves its socket's bytes alone: its lines would travel over a
 * fresh, idle stream (one per LineSocket, made when the LineSocket reads the option), so the socket can
 * be handed to the secure handshake as it came. Give it to the Puncher that makes the connections,
 * e.g. `RendezvousPuncher.onSession(session, { lineOptions: rawLineOptions() })`.
 */
export function rawLineOptions(limits: LineLimits = {}): LineSocketOptions {
  return {
    ...limits,
    get stream() {
      return new PassThrough()
    },
  }
}

/**
 * The socket under `input`. A `LineSocket` that reads its socket is refused with `ERR_SOCKET_IN_USE`
 * when `raw` is needed (secure), because bytes of the handshake may already sit in its line buffer.
 */
export function socketOf(input: Socket | LineSocket, raw: boolean): Socket {
  if (!isLineSocket(input)) return input
  if (raw && input.socket.listenerCount('data') > 0) throw UnlError.SOCKET_IN_USE()
  return input.socket
}

/**
 * `input` when it is a LineSocket that reads its own socket; undefined for a socket, or a LineSocket
 * whose lines travel over another stream (`rawLineOptions()`: a PassThrough, which would hand a plain
 * connection's own lines back to it: issue 18, a plain punch "connected to itself"). Ask before
 * anything else listens to the socket.
 */
export function linesOn(input: Socket | LineSocket): LineSocket | undefined {
  return isLineSocket(input) && input.socket.listenerCount('data') > 0 ? input : undefined
}

export function isLineSocket(input: Socket | LineSocket): input is LineSocket {
  return typeof (input as LineSocket).sendLine === 'function'
}
