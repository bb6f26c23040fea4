/**
 * Options, results and events of UnlConnector; every default is a constant in constants.ts.
 */
import type { MessageTransport } from '@pyp2p/dht-msg'
import type { LineLimits, LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import type { NoiseCipher } from '@pyp2p/secure'
import type { AdmissionRefusal } from './connect-hello.js'
import type { AttemptReport, ConnectMethod, UnlError } from './errors.js'
import type { Puncher } from './puncher.js'
import type { Relayer } from './relayer.js'
import type { ReverseLimits } from './reverse-guard.js'
import type { UNL } from './unl.js'

export interface UnlConnectorOptions {
  /** This node's UNL. With `identity`, its node id must be the identity's (`ERR_IDENTITY_MISMATCH`). */
  unl: UNL
  /**
   * This node's key (@pyp2p/identity): every connection, made or accepted, runs the secure handshake
   * with it. Required unless `secure` is false (`ERR_IDENTITY_REQUIRED`).
   */
  identity?: NodeIdentity
  /**
   * Encrypt and authenticate every connection (Noise XX, @pyp2p/secure). Default true. `false`: plain
   * lines as the original pyp2p spoke them; both ends must agree (a mix fails fast with
   * `ERR_PLAINTEXT_PEER` / `ERR_SECURE_PEER`).
   */
  secure?: boolean
  /** The secure handshake of one connection, ms. Default HANDSHAKE_TIMEOUT_MS (5 s). */
  handshakeTimeout?: number
  /**
   * The Noise ciphers this node accepts, in its order of preference (@pyp2p/secure). Default
   * `['AESGCM', 'ChaChaPoly']`; put `'ChaChaPoly'` first on a CPU without AES instructions.
   */
  ciphers?: readonly NoiseCipher[]
  /** Carries reverse-connect requests (a RelayClient); without it, reverse connect is skipped. */
  transport?: MessageTransport
  /** Hole punching for two simultaneous nodes (@pyp2p/punch); without it, punching is skipped. */
  puncher?: Puncher
  /**
   * Circuits through a relay (@pyp2p/relay, `CircuitRelayer`): the last method of `connect()`, and the
   * circuits others open to us; without it, relaying is skipped.
   */
  relayer?: Relayer
  /**
   * Relayed connections try once to move to a direct or punched connection (both ends coordinate over
   * the circuit; the lines move with none lost, repeated or reordered, then the circuit closes; see
   * relay-lines.ts). Default true; false: this node neither asks nor accepts.
   */
  relayUpgrade?: boolean
  /** That one try, ms. Default RELAY_UPGRADE_TIMEOUT_MS (20 s); the circuit stays when it fails. */
  relayUpgradeTimeout?: number
  /** Act on other nodes' reverse-connect requests arriving on `transport`. Default true. */
  answerReverse?: boolean
  /** Limits on the reverse-connect requests we act on. */
  reverseLimits?: ReverseLimits
  /** One LAN or direct dial, ms. Default DIAL_TIMEOUT_MS. */
  dialTimeout?: number
  /** Waiting for the peer to dial in after a reverse-connect request, ms. Default REVERSE_TIMEOUT_MS. */
  reverseTimeout?: number
  /** Sending a reverse-connect request again while the peer has not dialled in, ms. Default REVERSE_RESEND_MS. */
  reverseResend?: number
  /** Waiting for an incoming connection's handshake and first line, ms. Default HELLO_TIMEOUT_MS. */
  helloTimeout?: number
  /** Limits for the connections this connector makes or accepts. */
  lineLimits?: LineLimits
  /**
   * Whether this node takes an accepted (or punched-to-us) connection into a slot, asked after its
   * hello: undefined admits, a refusal is sent to the dialler (`ERR_PEER_FULL <text>`...) and the
   * connection closed. Reserve the slot here: the connection reaches you (`connection`, or the
   * `connect()` it answers) a few ticks later. Default: admit every connection.
   */
  admit?: (request: ConnectorAdmission) => AdmissionRefusal | undefined
  /**
   * Secure connections send `PYP2P-PING` after this long without receiving anything, ms; 0 turns the
   * keep-alive off. Default HEARTBEAT_INTERVAL_MS (15 s).
   */
  heartbeatInterval?: number
  /**
   * After a ping, how long the peer has to send anything before the connection fails with
   * `ERR_KEEPALIVE_TIMEOUT`, ms. Default HEARTBEAT_TIMEOUT_MS (10 s).
   */
  heartbeatTimeout?: number
}

/** What `admit` decides on: the connection past its hello, and how it came. */
export interface ConnectorAdmission {
  connection: LineSocket
  /** Proved by its key (secure), else claimed by its hello. */
  nodeId: string
  secure: boolean
  /** `direct` (it dialled our port) or `punch` (punched to us). */
  method: ConnectMethod
  /** It answers one of our reverse-connect requests (it is the `connect()` we asked for). */
  answer: boolean
}

export interface ConnectOptions {
  signal?: AbortSignal
  /** The whole attempt, every method included, ms. Default CONNECT_TIMEOUT_MS (60 s, the original's). */
  timeout?: number
  /** The original's callback style: called as well as the promise settling (which is then handled). */
  events?: {
    success?: (connection: LineSocket, result: ConnectResult) => void
    failure?: (error: UnlError) => void
  }
}

/** A node to dial by address, e.g. an entry of a bootstrap server's `NODES` list. */
export interface ListedNode {
  /** The node id it is listed under: the one we expect to reach. */
  nodeId: string
  host: string
  port: number
}

export interface DialNodeOptions {
  signal?: AbortSignal
  /** The dial, ms. Default the connector's `dialTimeout`. */
  timeout?: number
}

export interface ConnectResult {
  connection: LineSocket
  method: ConnectMethod
  /** Whether the connection is encrypted and the peer proved the node id it was expected to have. */
  secure: boolean
  /** From the call to the connection, ms. */
  durationMs: number
  /** Every method tried or skipped, in order. */
  attempts: AttemptReport[]
  /** For `method: 'relay'`: the relay the circuit runs through, `host:port`. */
  relay?: string
}

export interface IncomingConnection {
  connection: LineSocket
  /**
   * `direct` when the peer dialled us (by LAN or WAN); `reverse` when we dialled it at its request;
   * `punch` when it punched a connection to us through the Puncher; `relay` when it opened a circuit
   * to us through a relay where we hold a reservation.
   */
  method: ConnectMethod
  /** For `relay`: the relay the circuit runs through, `host:port`. */
  relay?: string
  /**
   * The peer's node id: proved by its key when `secure`; else the one its first line claimed (verified
   * only for `reverse`, through the relay).
   */
  nodeId: string
  /** Whether the connection is encrypted and `nodeId` proved. */
  secure: boolean
  /** The peer's UNL when known (reverse connects we answered). */
  peer?: UNL
}

export interface UnlConnectorEvents {
  /**
   * A connection no `connect()` of ours asked for: a peer dialled a server given to `acceptOn`, or we
   * answered a peer's reverse-connect request. Closed at once when there is no listener.
   */
  connection: [incoming: IncomingConnection]
  /** A reverse-connect request we did not act on, or whose dial-back failed. */
  refused: [info: { from: string; error: Error }]
  /** A relayed connection's lines moved to a direct or punched connection (the circuit is closed). */
  upgrade: [event: RelayUpgradeEvent]
  /** The one try to move a relayed connection we made failed (`ERR_UPGRADE_FAILED`): it stays relayed. */
  upgradeFailed: [event: { connection: LineSocket; nodeId: string; error: UnlError }]
}

export interface RelayUpgradeEvent {
  /** The application's connection (the same object before and after). */
  connection: LineSocket
  nodeId: string
  /** What carries its lines now. */
  method: ConnectMethod
  /** The peer's address and port on the new connection. */
  host: string
  port: number
}
