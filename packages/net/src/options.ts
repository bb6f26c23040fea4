/**
 * `Net`'s options (the original's constructor arguments in camelCase), their defaults and validation.
 */
import { isIP } from 'node:net'
import type { MessageTransport } from '@pyp2p/dht-msg'
import type { LineLimits } from '@pyp2p/framing'
import type { NatClient } from '@pyp2p/nat'
import type { NatType, NodeType } from '@pyp2p/unl'
import {
  DEFAULT_MAX_INBOUND,
  DEFAULT_MAX_OUTBOUND,
  DEFAULT_PASSIVE_BIND,
  DEFAULT_PASSIVE_PORT,
  DEFAULT_SERVER_PORT,
  DIAL_TIMEOUT_MS,
  HELLO_TIMEOUT_MS,
} from './constants.js'
import { NetError } from './errors.js'
import type { ReachabilityProbe } from './reachability.js'

/** `p2p`: one connection per node, never to ourselves. `direct`: both allowed (tests on one machine). */
export type NetType = 'p2p' | 'direct'

export interface ServerAddress {
  host: string
  /** Default 8000. */
  port?: number
}

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
  /** Bootstrap (rendezvous) servers, `host:port` or `{ host, port }`, tried in order. Default none. */
  servers?: readonly (ServerAddress | string)[]
  /**
   * A message relay for reverse connect: a `MessageTransport` (e.g. a connected `RelayClient`, whose node
   * id becomes ours), or the address of a `@pyp2p/dht-msg` relay to connect to. Default none.
   */
  dhtNode?: MessageTransport | ServerAddress | string
  /** Our node id (40 hex). Default random, or the relay identity's when `dhtNode` is given. */
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
  /** Time an inbound connection has to send its hello line, ms. Default 10,000. */
  helloTimeout?: number
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
  servers: Required<ServerAddress>[]
  dhtNode: MessageTransport | Required<ServerAddress> | undefined
  nodeId: string | undefined
  debug: boolean
  reachability: ReachabilityProbe | undefined
  natClient: NatClient | undefined
  lineLimits: LineLimits
  dialTimeout: number
  helloTimeout: number
}

const NODE_TYPES = ['passive', 'active', 'simultaneous']
const NAT_TYPES = ['unknown', 'preserving', 'delta', 'reuse', 'random']

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw NetError.INVALID_OPTION(name, v, `an integer ${min}..${max}`)
  return v
}

/** Parses `host:port`, `[v6]:port` or `{ host, port }`; throws `ERR_INVALID_OPTION`. */
export function parseServerAddress(name: string, value: ServerAddress | string): Required<ServerAddress> {
  let host: string
  let port: number | undefined
  if (typeof value === 'string') {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value)
    if (m === null) throw NetError.INVALID_OPTION(name, value, '"host:port" or { host, port }')
    host = m[1]!
    port = m[2] === undefined ? undefined : Number(m[2])
  } else if (typeof value === 'object' && value !== null && typeof value.host === 'string') {
    host = value.host
    port = value.port
  } else {
    throw NetError.INVALID_OPTION(name, value, '"host:port" or { host, port }')
  }
  if (host === '') throw NetError.INVALID_OPTION(name, value, 'a non-empty host')
  return { host, port: int(`${name}.port`, port, DEFAULT_SERVER_PORT, 1, 65_535) }
}

function isTransport(v: unknown): v is MessageTransport {
  return typeof v === 'object' && v !== null && typeof (v as MessageTransport).subscribe === 'function'
}

/** Fills in defaults and checks every value; throws `NetError` `ERR_INVALID_OPTION`. */
export function resolveNetOptions(o: NetOptions = {}): ResolvedNetOptions {
  const passiveBind = o.passiveBind ?? DEFAULT_PASSIVE_BIND
  if (isIP(passiveBind) === 0) throw NetError.INVALID_OPTION('passiveBind', passiveBind, 'an IP address')
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
  return {
    passiveBind,
    passivePort: int('passivePort', o.passivePort, DEFAULT_PASSIVE_PORT, 0, 65_535),
    interface: o.interface ?? 'default',
    netType,
    nodeType: o.nodeType,
    natType: o.natType,
    maxOutbound: int('maxOutbound', o.maxOutbound, DEFAULT_MAX_OUTBOUND, 0, 100_000),
    maxInbound: int('maxInbound', o.maxInbound, DEFAULT_MAX_INBOUND, 0, 100_000),
    enableForwarding: o.enableForwarding ?? true,
    servers,
    dhtNode,
    nodeId: o.nodeId,
    debug: o.debug ?? false,
    reachability: o.reachability,
    natClient: o.natClient,
    lineLimits: o.lineLimits ?? {},
    dialTimeout: int('dialTimeout', o.dialTimeout, DIAL_TIMEOUT_MS, 1, 3_600_000),
    helloTimeout: int('helloTimeout', o.helloTimeout, HELLO_TIMEOUT_MS, 1, 3_600_000),
  }
}
