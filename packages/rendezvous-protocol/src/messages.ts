/**
 * The messages of rendezvous protocol version 1, as typed values. Each has a `type` that is its command
 * word (plus a discriminating field where one word has several shapes). PROTOCOL.md documents the wire
 * form of each one.
 */
import type { Proof } from './proof-types.js'
import type { WireErrorCode } from './wire-errors.js'

export type { Proof } from './proof-types.js'
export { WIRE_ERROR_CODES, type WireErrorCode } from './wire-errors.js'

/** The node types pyp2p knows that a server stores. */
export type NodeType = 'passive' | 'simultaneous'

/** IPv4 dotted quad or IPv6 text (no brackets, no zone), as `net.isIPv4`/`net.isIPv6` accept. */
export type IpAddress = string

/** 40 lower-case hex characters (20 bytes). */
export type NodeId = string

// ---------------------------------------------------------------- client -> server

/**
 * `BOOTSTRAP <n> [MARKED]`: ask for up to n (1..100) known nodes. Reply: `NODES`. With `MARKED` (only to
 * a server whose `HELLO` carries a nonce) entries whose registration was not proven end in `:u`.
 */
export interface BootstrapMessage {
  readonly type: 'BOOTSTRAP'
  readonly count: number
  readonly marked?: true
}

/**
 * `PASSIVE READY <port> <max-inbound> <node-id> [<clear-token>]` / `SIMULTANEOUS READY ...`: register
 * this node. Reply: `OK PASSIVE` / `OK SIMULTANEOUS`. With a `clearToken` (a secret the node chose,
 * 16..64 of `[A-Za-z0-9_-]`), `CLEAR <node-id> <clear-token>` forgets the registration from any
 * connection later.
 */
export interface ReadyMessage {
  readonly type: 'READY'
  readonly nodeType: NodeType
  readonly port: number
  readonly maxInbound: number
  readonly nodeId: NodeId
  readonly clearToken?: string
  /** `SIG <public-key> <signature>`: proves the node owns `nodeId` (PROTOCOL.md, "Proofs"). */
  readonly proof?: Proof
}

/** `SOURCE TCP <local-port>`: ask which source port the server sees. Reply: `REMOTE TCP <port>`. */
export interface SourceMessage {
  readonly type: 'SOURCE'
  readonly localPort: number
}

/** `CANDIDATE <target-node-id> <own-node-id> TCP <p1> [p2 ...]`. Reply: `PREDICTION SET <punch-id>`. */
export interface CandidateMessage {
  readonly type: 'CANDIDATE'
  readonly targetNodeId: NodeId
  readonly nodeId: NodeId
  readonly ports: readonly number[]
  /** Proves the sender owns `nodeId`, the candidate's id. */
  readonly proof?: Proof
}

/** `ACCEPT <punch-id> TCP <q1> [q2 ...]`: the target agrees. Reply: `FIGHT` (sent to both sides). */
export interface AcceptMessage {
  readonly type: 'ACCEPT'
  readonly punchId: string
  readonly ports: readonly number[]
}

/** `REJECT <punch-id> <reason...>`: the target declines. Reply: `OK REJECT`. */
export interface RejectMessage {
  readonly type: 'REJECT'
  readonly punchId: string
  readonly reason: string
}

/**
 * `CLEAR`: forget every node this connection registered. `CLEAR <node-id> <clear-token>`: forget that
 * node's registration, from any connection, if it was registered with this token. Reply: `OK CLEAR`
 * (or `ERROR ERR_NO_SUCH_NODE` when no registration matches the id and token).
 */
export interface ClearMessage {
  readonly type: 'CLEAR'
  /** With `clearToken`: the registration to forget. Both or neither. */
  readonly nodeId?: NodeId
  readonly clearToken?: string
  /** Only with `nodeId`: proves the sender owns it. */
  readonly proof?: Proof
}

/**
 * `CHECK TCP <port> <nonce>`: ask the server to connect back to this connection's observed IP at
 * `port` and send `PYP2P-DIALBACK/1 <nonce>` there. Reply: `REACHABLE TCP <port> YES|NO ...`.
 */
export interface CheckMessage {
  readonly type: 'CHECK'
  readonly port: number
  readonly nonce: string
}

/**
 * How a node's router treats an unsolicited inbound SYN: `rst` answers it with a reset (Linux's default
 * when nothing listens), `drop` discards it silently (RFC 5382 REQ-4). A node learns its own with a
 * dial-back (`CHECK`) to a port nothing answers on.
 */
export type InboundPolicy = 'rst' | 'drop'

/**
 * `INBOUND TCP RST|DROP` (added in version 1, optional): what this node's router does with unsolicited
 * inbound SYNs, as a hint for ordering the punches this connection takes part in. Reply: `OK INBOUND`;
 * a server without it answers `ERROR ERR_UNKNOWN_COMMAND`, which a client may ignore.
 */
export interface InboundMessage {
  readonly type: 'INBOUND'
  readonly policy: InboundPolicy
}

/** `QUIT`: the server closes the connection (no reply line). */
export interface QuitMessage {
  readonly type: 'QUIT'
}

/** `PING <token>`: valid in both directions; the receiver answers `PONG <token>` at once. */
export interface PingMessage {
  readonly type: 'PING'
  readonly token: string
}

/** `PONG <token>`: the answer to a `PING`; never answered itself. */
export interface PongMessage {
  readonly type: 'PONG'
  readonly token: string
}

export type ClientMessage =
  | BootstrapMessage
  | ReadyMessage
  | SourceMessage
  | CandidateMessage
  | AcceptMessage
  | RejectMessage
  | ClearMessage
  | CheckMessage
  | InboundMessage
  | QuitMessage
  | PingMessage
  | PongMessage

// ---------------------------------------------------------------- server -> client

/**
 * `HELLO PYP2P/<version> <observed-ip> <observed-port> [extension ...]`: the greeting, sent first on every
 * connection. Extensions are tokens a later version may add; a v1 client ignores them.
 */
export interface HelloMessage {
  readonly type: 'HELLO'
  readonly version: number
  readonly ip: IpAddress
  readonly port: number
  /** `nonce=<nonce>`: fresh for this connection; what a proof signs. Absent from older servers. */
  readonly nonce?: string
  /** `server=<server-id>`: the server a proof is bound to. */
  readonly serverId?: string
  /** `lifetime=<seconds>`: how long the server keeps a registration. Absent from older servers. */
  readonly lifetimeSeconds?: number
  /**
   * `proofs=connection`: a node id proven on this connection stays proven for the rest of it (commands
   * acting as it may go unsigned). Absent from older servers, which need a proof on every command.
   */
  readonly connectionProofs?: true
  /** The other extension words (`nonce=`, `server=`, `lifetime=`, `proofs=connection` have fields). */
  readonly extensions: readonly string[]
}

/** One entry of a `NODES` reply: `<type>:<node-id>:<ip>:<port>` (IPv6 in brackets). */
export interface NodeEntry {
  readonly nodeType: NodeType
  readonly nodeId: NodeId
  readonly ip: IpAddress
  readonly port: number
  /** `:u` suffix (only after `BOOTSTRAP <n> MARKED`): the registration was not proven by a signature. */
  readonly unproven?: true
}

/** `NODES <entry> ...` or `NODES EMPTY` (then `nodes` is empty). */
export interface NodesMessage {
  readonly type: 'NODES'
  readonly nodes: readonly NodeEntry[]
}

/** `OK PASSIVE` / `OK SIMULTANEOUS` / `OK CLEAR` / `OK REJECT` / `OK INBOUND`. */
export interface OkMessage {
  readonly type: 'OK'
  readonly what: 'PASSIVE' | 'SIMULTANEOUS' | 'CLEAR' | 'REJECT' | 'INBOUND'
}

/** `REMOTE TCP <observed-port>`: the source port the server saw on this connection. */
export interface RemoteMessage {
  readonly type: 'REMOTE'
  readonly port: number
}

/**
 * `REACHABLE TCP <port> YES` / `REACHABLE TCP <port> NO <reason>`: the answer to `CHECK`. YES: the
 * server connected to the asker's observed IP at `port` and sent the dial-back line; NO: it could not
 * (`reason` says why, e.g. `connection refused`).
 */
export interface ReachableMessage {
  readonly type: 'REACHABLE'
  readonly port: number
  readonly reachable: boolean
  /** Present exactly when `reachable` is false. */
  readonly reason?: string
}

/** `PREDICTION SET <punch-id>`: the server stored the candidate and challenged the target. */
export interface PredictionSetMessage {
  readonly type: 'PREDICTION_SET'
  readonly punchId: string
}

/** `CHALLENGE <punch-id> <candidate-node-id> <candidate-ip> TCP <p1> ...`, to the target of a punch. */
export interface ChallengeMessage {
  readonly type: 'CHALLENGE'
  readonly punchId: string
  readonly nodeId: NodeId
  readonly ip: IpAddress
  readonly ports: readonly number[]
}

/** `FIGHT <punch-id> <peer-ip> TCP <peer-ports...> <delay-ms>`: connect to the peer after delay-ms. */
export interface FightMessage {
  readonly type: 'FIGHT'
  readonly punchId: string
  readonly ip: IpAddress
  readonly ports: readonly number[]
  readonly delayMs: number
}

/** `RECONNECT`: open a new connection and register again (same node id); see PROTOCOL.md. */
export interface ReconnectMessage {
  readonly type: 'RECONNECT'
}

/**
 * `ERROR <CODE> [punch=<punch-id>] <text>`. `punchId` is set when the error ends a punch (the line then
 * carries `punch=<id>` as the first word of the text).
 */
export interface ErrorMessage {
  readonly type: 'ERROR'
  readonly code: WireErrorCode | (string & {})
  readonly punchId?: string | undefined
  readonly text: string
}

export type ServerMessage =
  | HelloMessage
  | NodesMessage
  | OkMessage
  | RemoteMessage
  | ReachableMessage
  | PredictionSetMessage
  | ChallengeMessage
  | FightMessage
  | ReconnectMessage
  | ErrorMessage
  | PingMessage
  | PongMessage
