/**
 * The one step every connection passes through before it is handed to its user, outbound and inbound,
 * whatever made it: a LAN or direct dial, a dial to a listed (bootstrap) node, a reverse dial-back, a
 * hole punch (both sides), an accepted socket. Today it is the hello line
 * (`PYP2P-CONNECT/1 <nonce> <node-id>`): the dialler says who it is and which attempt this is. This is
 * where a handshake (encryption, the peer's key checked against the node id it is expected to have)
 * goes, once, for every method.
 */
import type { LineSocket } from '@pyp2p/framing'
import { type ConnectHello, formatConnectHello, parseConnectHello } from './connect-hello.js'
import { UnlError } from './errors.js'

export interface OutboundUpgrade {
  /** Our node id, sent in the hello. */
  nodeId: string
  /** The nonce of this attempt (64 hex characters): the peer matches it to its own reverse requests. */
  nonce: string
  /**
   * The node id we expect at the other end, when known (a UNL, a bootstrap entry). Today recorded only
   * (a hello proves nothing); a handshake will check it.
   */
  expectedNodeId?: string
  signal?: AbortSignal
}

/** A connection past the step. */
export interface UpgradedConnection {
  /** The connection to use from now on. */
  connection: LineSocket
  /** The peer's node id: the one expected (outbound, when given) or the one its hello claimed (inbound). */
  nodeId: string | undefined
}

/**
 * Dialler's side: says hello. Resolves with the connection to use; closes it and rejects (the error
 * `sendLine` threw, e.g. framing's `ERR_CONNECTION_CLOSED`, or `ERR_ABORTED`) when that fails.
 */
export async function upgradeOutbound(con: LineSocket, o: OutboundUpgrade): Promise<UpgradedConnection> {
  try {
    if (o.signal?.aborted) throw UnlError.ABORTED(o.signal.reason)
    con.sendLine(formatConnectHello(o.nonce, o.nodeId))
  } catch (err) {
    con.close()
    throw err
  }
  return { connection: con, nodeId: o.expectedNodeId }
}

export interface InboundUpgrade {
  /** Bounds the wait for the peer's first line (the caller adds its hello timeout). */
  signal: AbortSignal
}

/** An accepted connection past the step, with what its hello said. */
export interface UpgradedInbound extends UpgradedConnection {
  nodeId: string
  hello: ConnectHello
}

/**
 * Accepting side: reads and checks the peer's hello. Closes the connection and rejects with
 * `ERR_INVALID_HELLO` when the first line is missing (closed, timed out, aborted) or is not a hello.
 */
export async function upgradeInbound(con: LineSocket, o: InboundUpgrade): Promise<UpgradedInbound> {
  let hello: ConnectHello
  try {
    hello = parseConnectHello(await con.readLine({ signal: o.signal }))
  } catch (err) {
    con.close()
    throw err instanceof UnlError ? err : UnlError.INVALID_HELLO('no first line', err)
  }
  return { connection: con, nodeId: hello.nodeId, hello }
}
