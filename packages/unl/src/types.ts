/**
 * The values a UNL carries, and their one-byte codes in the binary format.
 */

/** How a node takes connections (the original's letters `p`, `a`, `s`). */
export type NodeType = 'passive' | 'active' | 'simultaneous'

/**
 * The NAT's port mapping behaviour (see @pyp2p/nat): `preserving` keeps the local port, `delta` allocates
 * ports in steps (the original had no letter for it), `reuse` keeps one mapping for all peers,
 * `random` gives a new random port per destination, `unknown` when not yet detected.
 */
export type NatType = 'unknown' | 'preserving' | 'delta' | 'reuse' | 'random'

/** How the listening port was opened on the router. */
export type ForwardingType = 'none' | 'manual' | 'upnp' | 'natpmp'

export const NODE_TYPES: readonly NodeType[] = ['passive', 'active', 'simultaneous']
export const NAT_TYPES: readonly NatType[] = ['unknown', 'preserving', 'delta', 'reuse', 'random']
export const FORWARDING_TYPES: readonly ForwardingType[] = ['none', 'manual', 'upnp', 'natpmp']

/** An extension (TLV) entry this reader does not know, kept so re-encoding gives the same bytes. */
export interface UnlExtension {
  type: number
  value: Uint8Array
}

/** The fields of a UNL, as given to `encodeUnl` / `new UNL()`. */
export interface UnlFields {
  /** 40 lowercase hex characters (20 bytes); all zeros when the node has no id. */
  nodeId: string
  nodeType: NodeType
  natType: NatType
  forwarding: ForwardingType
  /** The listening port, 0 when the node does not listen. */
  port: number
  /** The public address ('' when unknown). IPv4 or IPv6. */
  wanAddress: string
  /** The address on the local network ('' when unknown). IPv4 or IPv6. */
  lanAddress: string
  /** The public port mapped to `port` when it differs (UPnP/NAT-PMP); omitted when equal. */
  externalPort?: number
  /** Extensions this version does not know (kept for round trips). */
  extensions?: UnlExtension[]
}
