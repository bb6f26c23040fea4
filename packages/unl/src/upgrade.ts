/**
 * The one step every connection passes through before it is handed to its user, outbound and inbound,
 * whatever made it: a LAN or direct dial, a dial to a listed (bootstrap) node, a reverse dial-back, a
 * hole punch (both sides), an accepted socket. It runs on the raw socket:
 *
 * 1. the secure handshake (@pyp2p/secure, Noise XX bound to each side's identity key; the dialler is
 *    the initiator and names the node id it expects: another key fails with `ERR_PEER_ID_MISMATCH`
 *    before any line), unless `secure: false`;
 * 2. a `LineSocket` over the encrypted stream (or over the socket, plain);
 * 3. the hello line (`PYP2P-CONNECT/1 <nonce> <node-id>`), inside the encrypted channel: the dialler
 *    says which attempt this is; its node id must be the one its key proved;
 * 4. admission: the acceptor's node decides whether it takes the connection into a slot (`admit`) and,
 *    secure, answers the hello with one line, `OK` or a refusal (`ERR_PEER_FULL <text>`...); the
 *    dialler resolves only after `OK`, within the handshake timeout. Plain connections (the original's
 *    nodes) have no answer line: a refused one is closed after its hello.
 *
 * Secure connections then keep themselves alive (`heartbeat`: `PYP2P-PING`/`PYP2P-PONG` after silence),
 * so a peer that vanishes fails the connection with framing's `ERR_KEEPALIVE_TIMEOUT`.
 */
import type { Socket } from 'node:net'
import { anySignal, type LineLimits, LineSocket, type LineSocketOptions } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import { isSecurePrologue, type NoiseCipher, SecureError, secureInbound, secureOutbound } from '@pyp2p/secure'
import {
  type AdmissionRefusal,
  type ConnectHello,
  formatAdmission,
  formatConnectHello,
  parseAdmission,
  parseConnectHello,
  refusalError,
} from './connect-hello.js'
import { HANDSHAKE_TIMEOUT_MS, HEARTBEAT_PING, HEARTBEAT_PONG, REFUSAL_LINGER_MS } from './constants.js'
import { UnlError } from './errors.js'
import { isLineSocket, linesOn, socketOf } from './raw-socket.js'
import { watchForSecurePeer } from './secure-peer-watch.js'

export interface UpgradeOptions {
  /** This node's identity. Required unless `secure` is false. */
  identity?: NodeIdentity
  /** Run the secure handshake. Default true; false: plain lines (nodes of the original pyp2p). */
  secure?: boolean
  /** The secure handshake, ms. Default HANDSHAKE_TIMEOUT_MS (5 s). */
  handshakeTimeout?: number
  /** The Noise ciphers accepted, in order of preference. Default @pyp2p/secure's (AESGCM, ChaChaPoly). */
  ciphers?: readonly NoiseCipher[]
  /** Limits of the LineSocket made here. */
  lineLimits?: LineLimits
  /**
   * Keep-alive of secure connections, ms (`PYP2P-PING` after `interval` of silence; the connection fails
   * with `ERR_KEEPALIVE_TIMEOUT` when nothing arrives `timeout` later). Default off here; the connector
   * turns it on. Plain connections never ping (the original's nodes would get the line).
   */
  heartbeat?: { interval: number; timeout: number }
}

export interface OutboundUpgrade extends UpgradeOptions {
  /** Our node id, sent in the hello. */
  nodeId: string
  /** The nonce of this attempt (64 hex characters): the peer matches it to its own reverse requests. */
  nonce: string
  /**
   * The node id we expect at the other end (a UNL, a bootstrap entry, a punch or reverse target):
   * secure, another key fails with `ERR_PEER_ID_MISMATCH`; plain, only recorded.
   */
  expectedNodeId?: string
  signal?: AbortSignal
}

/** A connection past the step. */
export interface UpgradedConnection {
  /** The connection to use from now on. */
  connection: LineSocket
  /** The peer's node id: proved by its key (secure); else the one expected (outbound) or claimed (inbound). */
  nodeId: string | undefined
  /** Whether the connection is encrypted and the peer's node id proved. */
  secure: boolean
}

/**
 * Dialler's side: handshake (secure), then hello. Resolves with the connection to use; destroys the
 * socket and rejects on failure: a `SecureError` (`ERR_PEER_ID_MISMATCH`, `ERR_PLAINTEXT_PEER`,
 * `ERR_HANDSHAKE_TIMEOUT`, ...), `ERR_SOCKET_IN_USE`, framing's `ERR_CONNECTION_CLOSED`, `ERR_ABORTED`.
 */
export async function upgradeOutbound(
  input: Socket | LineSocket,
  o: OutboundUpgrade,
): Promise<UpgradedConnection> {
  const secure = o.secure ?? true
  let con: LineSocket | undefined
  let socket: Socket | undefined
  try {
    socket = socketOf(input, secure)
    if (o.signal?.aborted) throw UnlError.ABORTED(o.signal.reason)
    if (secure) {
      const session = await secureOutbound(socket, {
        identity: requireIdentity(o.identity),
        timeout: o.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS,
        ...(o.ciphers !== undefined && { ciphers: o.ciphers }),
        ...(o.expectedNodeId !== undefined && { expectedNodeId: o.expectedNodeId }),
        ...(o.signal !== undefined && { signal: o.signal }),
      })
      con = new LineSocket(socket, secureLineOptions(o, session.stream))
      con.sendLine(formatConnectHello(o.nonce, o.nodeId))
      const refusal = await readAdmission(con, o.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS, o.signal)
      if (refusal !== undefined) throw refusalError(refusal)
      return { connection: con, nodeId: session.remoteNodeId, secure: true }
    }
    const lines = linesOn(input) // before the watch reads the socket too
    watchForSecurePeer(socket)
    con = lines ?? plainLines(socket, o.lineLimits)
    con.sendLine(formatConnectHello(o.nonce, o.nodeId))
    return { connection: con, nodeId: o.expectedNodeId, secure: false }
  } catch (err) {
    discard(input, con, socket)
    throw err
  }
}

export interface InboundUpgrade extends UpgradeOptions {
  /** Bounds the wait for the peer's hello (the caller adds its hello timeout). */
  signal: AbortSignal
  /** The node id the peer must prove (a punch from a candidate the rendezvous server named). */
  expectedNodeId?: string
  /**
   * Whether this node takes the connection into a slot, decided after the hello (and reserving the
   * slot when it does): undefined admits; a refusal is answered (secure) and the connection closed.
   * Default: admit every connection.
   */
  admit?: (request: AdmissionRequest) => AdmissionRefusal | undefined
}

/** What the acceptor's node decides admission on. */
export interface AdmissionRequest {
  connection: LineSocket
  /** Proved by its key (secure), else claimed by the hello. */
  nodeId: string
  hello: ConnectHello
  secure: boolean
}

/** An accepted connection past the step, with what its hello said. */
export interface UpgradedInbound extends UpgradedConnection {
  nodeId: string
  hello: ConnectHello
}

/**
 * Accepting side: handshake (secure), then the peer's hello. Destroys the socket and rejects with a
 * `SecureError` (the handshake failed: garbage, truncated, replayed, stalled, a plain peer...),
 * `ERR_HELLO_ID_MISMATCH` (the hello names another node than the key proved), `ERR_SECURE_PEER` (plain
 * here, secure there), or `ERR_INVALID_HELLO` (no first line, or not a hello).
 */
export async function upgradeInbound(
  input: Socket | LineSocket,
  o: InboundUpgrade,
): Promise<UpgradedInbound> {
  const secure = o.secure ?? true
  let con: LineSocket | undefined
  let socket: Socket | undefined
  let told = false // a refusal was sent: close gracefully so it reaches the peer
  try {
    socket = socketOf(input, secure)
    let proved: string | undefined
    if (secure) {
      const session = await secureInbound(socket, {
        identity: requireIdentity(o.identity),
        timeout: o.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS,
        ...(o.ciphers !== undefined && { ciphers: o.ciphers }),
        signal: o.signal,
      })
      proved = session.remoteNodeId
      if (o.expectedNodeId !== undefined && proved !== o.expectedNodeId) {
        session.stream.destroy()
        throw SecureError.PEER_ID_MISMATCH(o.expectedNodeId, proved)
      }
      con = new LineSocket(socket, secureLineOptions(o, session.stream))
    } else {
      con = linesOn(input) ?? plainLines(socket, o.lineLimits)
    }
    const line = await readFirstLine(con, o.signal)
    if (!secure && isSecurePrologue(line)) throw UnlError.SECURE_PEER(line)
    const hello = parseConnectHello(line)
    if (proved !== undefined && hello.nodeId !== proved)
      throw UnlError.HELLO_ID_MISMATCH(hello.nodeId, proved)
    const refusal = o.admit?.({ connection: con, nodeId: hello.nodeId, hello, secure })
    if (refusal !== undefined) {
      told = true
      if (secure && con.isOpen) con.sendLine(formatAdmission(refusal))
      con.close()
      // A refused peer that does not read must not hold the socket for closeTimeout.
      const s = socket
      setTimeout(() => s.destroy(), REFUSAL_LINGER_MS).unref()
      throw UnlError.NOT_ADMITTED(hello.nodeId, refusal.code, refusal.text)
    }
    if (secure) con.sendLine(formatAdmission())
    return { connection: con, nodeId: hello.nodeId, hello, secure }
  } catch (err) {
    if (told) con?.close()
    else discard(input, con, socket)
    throw err
  }
}

/** The dialler waits for the acceptor's answer: undefined for `OK`, or its refusal. */
async function readAdmission(
  con: LineSocket,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<AdmissionRefusal | undefined> {
  const wait = AbortSignal.timeout(timeout)
  let line: string
  try {
    line = await con.readLine({ signal: anySignal(signal, wait) })
  } catch (err) {
    if (signal?.aborted) throw UnlError.ABORTED(signal.reason)
    const why = wait.aborted
      ? `no answer to the hello within ${timeout} ms`
      : 'closed before answering the hello'
    throw UnlError.INVALID_ADMISSION(why, err)
  }
  return parseAdmission(line)
}

function secureLineOptions(o: UpgradeOptions, stream: LineSocketOptions['stream']): LineSocketOptions {
  const hb = o.heartbeat
  return {
    ...o.lineLimits,
    ...(stream !== undefined && { stream }),
    ...(hb !== undefined && { heartbeat: { ...hb, ping: HEARTBEAT_PING, pong: HEARTBEAT_PONG } }),
  }
}

async function readFirstLine(con: LineSocket, signal: AbortSignal): Promise<string> {
  try {
    return await con.readLine({ signal })
  } catch (err) {
    throw UnlError.INVALID_HELLO('no first line', err)
  }
}

// A socket paused by whoever peeked at it first (a dial-back screen) is read by its LineSocket.
function plainLines(socket: Socket, limits: LineLimits | undefined): LineSocket {
  const con = new LineSocket(socket, limits ?? {})
  if (socket.isPaused()) socket.resume()
  return con
}

function requireIdentity(identity: NodeIdentity | undefined): NodeIdentity {
  if (identity === undefined) throw UnlError.IDENTITY_REQUIRED()
  return identity
}

function discard(input: Socket | LineSocket, con: LineSocket | undefined, socket: Socket | undefined): void {
  con?.close()
  if (isLineSocket(input)) input.close()
  socket?.destroy()
}
