/**
 * `UNL`: an immutable, validated Universal Node Locator, and the comparisons `connect()` relies on.
 */

import type { ForwardingType, NatType, NodeType, UnlExtension, UnlFields } from './types.js'
import { decodeUnlBytes, encodeUnlBytes, parseUnlText } from './unl-codec.js'

const ZERO_NODE_ID = '0'.repeat(40)

export class UNL implements UnlFields {
  readonly nodeId: string
  readonly nodeType: NodeType
  readonly natType: NatType
  readonly forwarding: ForwardingType
  readonly port: number
  readonly wanAddress: string
  readonly lanAddress: string
  readonly externalPort?: number
  readonly extensions?: UnlExtension[]
  /** The binary form (compared for master selection). */
  readonly bytes: Uint8Array
  /** The base64url text form. */
  readonly text: string

  /** Build from fields; throws UnlError ERR_INVALID_UNL naming the field that can't be encoded. */
  constructor(fields: UnlFields) {
    const bytes = encodeUnlBytes(fields)
    const f = decodeUnlBytes(bytes)
    this.nodeId = f.nodeId
    this.nodeType = f.nodeType
    this.natType = f.natType
    this.forwarding = f.forwarding
    this.port = f.port
    this.wanAddress = f.wanAddress
    this.lanAddress = f.lanAddress
    if (f.externalPort !== undefined) this.externalPort = f.externalPort
    if (f.extensions !== undefined) this.extensions = f.extensions
    this.bytes = bytes
    this.text = Buffer.from(bytes).toString('base64url')
    Object.freeze(this)
  }

  /** Parse and validate a UNL's text; throws UnlError ERR_INVALID_UNL saying what is wrong. */
  static parse(text: string): UNL {
    return new UNL(parseUnlText(text).fields)
  }

  /** Parse and validate a UNL's binary form. */
  static fromBytes(bytes: Uint8Array): UNL {
    return new UNL(decodeUnlBytes(bytes))
  }

  /** The port to dial from outside the node's network. */
  get publicPort(): number {
    return this.externalPort ?? this.port
  }

  /** Whether the node has a (non-zero) node id. */
  get hasNodeId(): boolean {
    return this.nodeId !== ZERO_NODE_ID
  }

  /** The plain fields (a copy), e.g. to change one and build a new UNL. */
  toFields(): UnlFields {
    const { nodeId, nodeType, natType, forwarding, port, wanAddress, lanAddress } = this
    const f: UnlFields = { nodeId, nodeType, natType, forwarding, port, wanAddress, lanAddress }
    if (this.externalPort !== undefined) f.externalPort = this.externalPort
    if (this.extensions !== undefined) f.extensions = this.extensions.map((e) => ({ ...e }))
    return f
  }

  toString(): string {
    return this.text
  }

  toJSON(): string {
    return this.text
  }

  /** Exactly the same UNL (same bytes). */
  equals(other: UNL): boolean {
    return compareUnl(this, other) === 0
  }
}

/** Parse and validate a UNL's text; throws UnlError ERR_INVALID_UNL saying what is wrong. */
export function parseUnl(text: string): UNL {
  return UNL.parse(text)
}

/**
 * Whether two UNLs describe the same node: the same non-zero node id, or (when either has no id) the
 * same WAN address, LAN address and port, as the original compared them.
 */
export function isSameNode(a: UNL, b: UNL): boolean {
  if (a.hasNodeId && b.hasNodeId) return a.nodeId === b.nodeId
  return a.wanAddress === b.wanAddress && a.lanAddress === b.lanAddress && a.port === b.port
}

/**
 * Orders two UNLs by their binary form read as one big-endian unsigned integer (what the original did
 * with the base64 text, which does not order like the number). The version byte is never zero, so a
 * longer encoding is the larger number.
 */
export function compareUnl(a: UNL, b: UNL): -1 | 0 | 1 {
  if (a.bytes.length !== b.bytes.length) return a.bytes.length < b.bytes.length ? -1 : 1
  const c = Buffer.compare(a.bytes, b.bytes)
  return c < 0 ? -1 : c > 0 ? 1 : 0
}

/**
 * The master of a pair: the node whose UNL is larger. Both ends compute the same answer from the two
 * UNLs, so they agree on who dials when either could. False for the same UNL on both sides.
 */
export function isMaster(ours: UNL, theirs: UNL): boolean {
  return compareUnl(ours, theirs) > 0
}
