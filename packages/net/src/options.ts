/**
 * `Net`'s options (the original's constructor arguments in camelCase), their defaults and validation.
 */
import { isIP } from 'node:net'
import type { MessageTransport } from '@pyp2p/dht-msg'
import type { LineLimits } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import type { NatClient } from '@pyp2p/nat'
import type { NoiseCipher } from '@pyp2p/secure'
import type { NatType, NodeType } from '@pyp2p/unl'
import {
  type NetCircuitRelayOptions,
  type ResolvedNetCircuitRelay,
  resolveCircuitRelay,
} from './circuit-relay-options.js'
import {
  DEFAULT_MAX_INBOUND,
  DEFAULT_MAX_OUTBOUND,
  DEFAULT_PASSIVE_BIND,
  DEFAULT_PASSIVE_PORT,
  DIAL_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TIMEOUT_MS,
  HELLO_TIMEOUT_MS,
  MAX_PENDING_HANDSHAKES,
} from './constants.js'
import { NetError } from './errors.js'
import { type InboundLimits, type ResolvedInboundLimits, resolveInboundLimits } from './inbound-limits.js'
import { cipherList, int, isTransport, parseServerAddress, type ServerAddress } from './option-checks.js'
import { type NetPunchLimits, resolvePunchLimits } from './punch-limits.js'
import type { ReachabilityProbe } from './reachability.js'

export { parseServerAddress, type ServerAddress } from './option-checks.js'

/** `p2p`: one connection per node, never to ourselves. `direct`: both allowed (tests on one machine). */
export type NetType = 'p2p' | 'direct'

export interface NetOptions {
  /** Address the listening (passive) socket binds. Default `0.0.0.0`. */
  passiveBind?: string
  /** Listening port; 0 picks a free one. Default 50500 (the original's). */
  passivePort?: number
  /** Network interface whose address is our LAN address (`eth0`); `default`: the one used to reach the server. */
  interface?: string
  /** Default `p2p`. */
  netType?: NetType
  /** Skip detection and be this kind of node. Default: detected by `start()`. */
  nodeType?: NodeType
  /** Skip NAT detection. Default: detected by `start()` when the node type depends on it. */
  natType?: NatType
  /** Outbound connections at most. Default 10. */
  maxOutbound?: number
  /** Inbound connections at most. Default 10. */
  maxInbound?: number
  /** Open the port on the router with UPnP / NAT-PMP. Default true; never tried with a loopback `passiveBind`. */
  enableForwarding?: boolean
  /**
   * The IPv6 address our UNL lists beside the WAN address, dialled by peers that have IPv6 too. Default:
   * the IPv6 `passiveBind`, or with `passiveBind: '::'` this host's first global (2000::/3) IPv6
   * address; none when listening on IPv4 only. `false`: never list one.
   */
  ipv6Address?: string | false
  /** Bootstrap (rendezvous) servers, `host:port` or `{ host, port }`, tried in order. Default none. */
  servers?: readonly (ServerAddress | string)[]
  /**
   * A message relay for reverse connect: a `MessageTransport` (e.g. a connected `RelayClient`, whose node
   * id becomes ours), or the address of a `@pyp2p/dht-msg` relay to connect to. Default none.
   */
  dhtNode?: MessageTransport | ServerAddress | string
  /**
   * This node's key: a `NodeIdentity` (@pyp2p/identity), or the path of a key file, loaded, or created
   * with mode 0600 when missing. Its node id is ours, on every connection, the relay and the bootstrap
   * server. Default: a new key per `start()` (a new node id each run; pass one to keep the id).
   */
  identity?: NodeIdentity | string
  /**
   * Encrypt and authenticate every connection (Noise XX, @pyp2p/secure): the peer proves its node id
   * with its key. Default true. `false`: plain lines, as the original pyp2p's nodes speak; both ends
   * must agree (a mix fails fast with `ERR_PLAINTEXT_PEER` / `ERR_SECURE_PEER`).
   */
  secure?: boolean
  /**
   * Circuit relay (@pyp2p/relay) through the bootstrap server: `connect()` falls back to a circuit
   * when no other method applies or works, and a node that is not passive (cannot be dialled) holds a
   * reservation there so others can reach it that way (its UNL then names the relay). Default true;
   * false: neither. An object (`NetCircuitRelayOptions`) is true plus: `serve` (a passive node runs a
   * relay for others, with the relay limits of the same object), `servePort`, and `reserveAt` (the
   * relay to reserve at instead of the bootstrap server).
   */
  circuitRelay?: boolean | NetCircuitRelayOptions
  /** Relayed connections try once to move to a direct or punched one (`upgrade` event). Default true. */
  relayUpgrade?: boolean
  /**
   * Our node id (40 hex). Default the identity's. Only with `secure: false` may it be another than
   * the identity's (a made-up id proves nothing); otherwise a different one is `ERR_NODE_ID_MISMATCH`.
   */
  nodeId?: string
  /** Log this Net's activity (the `pyp2p:net` debug namespace, enabled for this instance). Default false. */
  debug?: boolean
  /** How `start()` checks that the port is reachable from outside. Default {@link ServerDialBackProbe} (the bootstrap server dials the port back), falling back to {@link ObservedAddressProbe} when the server cannot check. */
  reachability?: ReachabilityProbe
  /** The port-mapping client to use (e.g. one configured for a lab). Default `new NatClient()`. */
  natClient?: NatClient
  /** Limits of every connection (see @pyp2p/framing). Default framing's. */
  lineLimits?: LineLimits
  /** One outbound dial, ms. Default 15,000. */
  dialTimeout?: number
  /** Time an inbound connection has to send its hello line (handshake included), ms. Default 10,000. */
  helloTimeout?: number
  /** The secure handshake of one connection, ms. Default 5,000; then `ERR_HANDSHAKE_TIMEOUT`. */
  handshakeTimeout?: number
  /**
   * The Noise ciphers this node accepts, in its order of preference (@pyp2p/secure): a dialler offers
   * them, an acceptor takes its first one offered. Default `['AESGCM', 'ChaChaPoly']`; put
   * `'ChaChaPoly'` first on a CPU without AES instructions (e.g. a Raspberry Pi 4). `['ChaChaPoly']`
   * also reaches nodes of earlier builds (secure protocol version 1).
   */
  ciphers?: readonly NoiseCipher[]
  /**
   * Accepted connections still in their handshake (or hello) at once; more are closed at once. Counted
   * apart from `maxInbound`, which only authenticated connections fill. Default 8.
   */
  maxPendingHandshakes?: number
  /** Limits on inbound slots and pending handshakes by network prefix, and idle eviction. */
  inboundLimits?: InboundLimits
  /**
   * Secure connections send a keep-alive ping (`PYP2P-PING`, inside the encrypted stream) after this
   * long without receiving anything, ms; 0 turns it off. Default 15,000. Plain connections never ping
   * (the original's nodes would receive the line); they rely on TCP keep-alive (`lineLimits`).
   */
  heartbeatInterval?: number
  /**
   * After a ping, how long the peer has to send anything, ms; then its connection fails with
   * `ERR_KEEPALIVE_TIMEOUT` and leaves the Net (`disconnect`). Default 10,000: a vanished peer's
   * `disconnect` comes within `heartbeatInterval + heartbeatTimeout` (25 s) of its last bytes.
   */
  heartbeatTimeout?: number
  /**
   * Limits on the punches other nodes make this node take part in (challenges it answers as a
   * simultaneous node): at once, waiting, and per requester. Defaults in {@link NetPunchLimits} (10 at
   * once, 20 waiting up to 5 s, 12 per requester in a burst then 12 a minute). A challenge past a limit
   * is declined, and its requester gets `ERR_PUNCH_REJECTED` naming the limit.
   */
  punchLimits?: NetPunchLimits
}

export interface ResolvedNetOptions {
  passiveBind: string
  passivePort: number
  interface: string
  netType: NetType
  nodeType: NodeType | undefined
  natType: NatType | undefined
  maxOutbound: number
  maxInbound: number
  enableForwarding: boolean
  ipv6Address: string | false | undefined
  servers: Required<ServerAddress>[]
  dhtNode: MessageTransport | Required<ServerAddress> | undefined
  nodeId: string | undefined
  identity: NodeIdentity | string | undefined
  secure: boolean
  circuitRelay: ResolvedNetCircuitRelay
  relayUpgrade: boolean
  debug: boolean
  reachability: ReachabilityProbe | undefined
  natClient: NatClient | undefined
  lineLimits: LineLimits
  dialTimeout: number
  helloTimeout: number
  handshakeTimeout: number
  ciphers: readonly NoiseCipher[] | undefined
  maxPendingHandshakes: number
  inboundLimits: ResolvedInboundLimits
  heartbeatInterval: number
  heartbeatTimeout: number
  punchLimits: Required<NetPunchLimits>
}

const NODE_TYPES = ['passive', 'active', 'simultaneous']
const NAT_TYPES = ['unknown', 'preserving', 'delta', 'reuse', 'random']

/** Fills in defaults and checks every value; throws `NetError` `ERR_INVALID_OPTION`. */
export function resolveNetOptions(o: NetOptions = {}): ResolvedNetOptions {
  const passiveBind = o.passiveBind ?? DEFAULT_PASSIVE_BIND
  if (isIP(passiveBind) === 0) throw NetError.INVALID_OPTION('passiveBind', passiveBind, 'an IP address')
  if (o.ipv6Address !== undefined && o.ipv6Address !== false && isIP(o.ipv6Address) !== 6)
    throw NetError.INVALID_OPTION('ipv6Address', o.ipv6Address, 'an IPv6 address or false')
  const netType = o.netType ?? 'p2p'
  if (netType !== 'p2p' && netType !== 'direct')
    throw NetError.INVALID_OPTION('netType', netType, "'p2p' or 'direct'")
  if (o.nodeType !== undefined && !NODE_TYPES.includes(o.nodeType)) {
    throw NetError.INVALID_OPTION('nodeType', o.nodeType, NODE_TYPES.join(', '))
  }
  if (o.natType !== undefined && !NAT_TYPES.includes(o.natType)) {
    throw NetError.INVALID_OPTION('natType', o.natType, NAT_TYPES.join(', '))
  }
  if (o.nodeId !== undefined && !/^[0-9a-f]{40}$/.test(o.nodeId)) {
    throw NetError.INVALID_OPTION('nodeId', o.nodeId, '40 lowercase hex characters')
  }
  const servers = (o.servers ?? []).map((s, i) => parseServerAddress(`servers[${i}]`, s))
  const dhtNode =
    o.dhtNode === undefined
      ? undefined
      : isTransport(o.dhtNode)
        ? o.dhtNode
        : parseServerAddress('dhtNode', o.dhtNode)
  if (isTransport(dhtNode) && o.nodeId !== undefined && o.nodeId !== dhtNode.nodeId) {
    throw NetError.INVALID_OPTION('nodeId', o.nodeId, `the dhtNode transport's node id ${dhtNode.nodeId}`)
  }
  const secure = o.secure ?? true
  if (typeof secure !== 'boolean') throw NetError.INVALID_OPTION('secure', secure, 'true or false')
  const { identity } = o
  if (identity !== undefined && !(identity instanceof NodeIdentity)) {
    if (typeof identity !== 'string' || identity === '') {
      throw NetError.INVALID_OPTION('identity', identity, 'a NodeIdentity or the path of a key file')
    }
  }
  // A key file's id is known at start(); a NodeIdentity's now; a generated one's never matches.
  if (identity instanceof NodeIdentity) checkNodeId(o.nodeId, identity.nodeId, secure)
  else if (secure && identity === undefined && o.nodeId !== undefined && !isTransport(dhtNode)) {
    throw NetError.INVALID_OPTION(
      'nodeId',
      o.nodeId,
      "left out when secure without an identity (a new key can't prove it): pass `identity`, or secure: false",
    )
  }
  const maxInbound = int('maxInbound', o.maxInbound, DEFAULT_MAX_INBOUND, 0, 100_000)
  const maxPending = int('maxPendingHandshakes', o.maxPendingHandshakes, MAX_PENDING_HANDSHAKES, 1, 100_000)
  return {
    passiveBind,
    passivePort: int('passivePort', o.passivePort, DEFAULT_PASSIVE_PORT, 0, 65_535),
    interface: o.interface ?? 'default',
    netType,
    nodeType: o.nodeType,
    natType: o.natType,
    maxOutbound: int('maxOutbound', o.maxOutbound, DEFAULT_MAX_OUTBOUND, 0, 100_000),
    maxInbound,
    enableForwarding: o.enableForwarding ?? true,
    ipv6Address: o.ipv6Address,
    servers,
    dhtNode,
    nodeId: o.nodeId,
    identity,
    secure,
    circuitRelay: resolveCircuitRelay(o.circuitRelay, parseServerAddress),
    relayUpgrade: o.relayUpgrade ?? true,
    debug: o.debug ?? false,
    reachability: o.reachability,
    natClient: o.natClient,
    lineLimits: o.lineLimits ?? {},
    dialTimeout: int('dialTimeout', o.dialTimeout, DIAL_TIMEOUT_MS, 1, 3_600_000),
    helloTimeout: int('helloTimeout', o.helloTimeout, HELLO_TIMEOUT_MS, 1, 3_600_000),
    handshakeTimeout: int('handshakeTimeout', o.handshakeTimeout, HANDSHAKE_TIMEOUT_MS, 1, 3_600_000),
    ciphers: cipherList(o.ciphers),
    maxPendingHandshakes: maxPending,
    inboundLimits: resolveInboundLimits(o.inboundLimits ?? {}, maxInbound, maxPending),
    heartbeatInterval: int('heartbeatInterval', o.heartbeatInterval, HEARTBEAT_INTERVAL_MS, 0, 3_600_000),
    heartbeatTimeout: int('heartbeatTimeout', o.heartbeatTimeout, HEARTBEAT_TIMEOUT_MS, 1, 3_600_000),
    punchLimits: resolvePunchLimits(o.punchLimits),
  }
}

/**
 * A `nodeId` option other than the identity's is refused when secure (`ERR_NODE_ID_MISMATCH`): the
 * handshake proves the key's id, so peers would refuse the other. Plain, it is used as given.
 */
export function checkNodeId(nodeId: string | undefined, identityNodeId: string, secure: boolean): void {
  if (secure && nodeId !== undefined && nodeId !== identityNodeId) {
    throw NetError.NODE_ID_MISMATCH('option nodeId', nodeId, identityNodeId)
  }
}
