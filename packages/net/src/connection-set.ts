/**
 * The live connections of a Net and the rules on them: `maxInbound`/`maxOutbound`, inbound slots by
 * network (`inboundLimits`, inbound-slots.ts), and in a `p2p` net no connection to ourselves and one
 * connection per node. The rules are applied at admission (`reserve`, inside the connection's upgrade,
 * before the dialler is told `OK`), so a dialler never holds a connection we then close. Dead
 * connections leave the set as soon as they close.
 */
import type { LineSocket } from '@pyp2p/framing'
import type { AdmissionRefusal, ConnectorAdmission } from '@pyp2p/unl'
import { MAX_PENDING_HANDSHAKES } from './constants.js'
import { type ResolvedInboundLimits, resolveInboundLimits } from './inbound-limits.js'
import { InboundSlots, type SlotRefusal } from './inbound-slots.js'
import type { NetType } from './options.js'
import {
  type Direction,
  type Initiator,
  type PeerInfo,
  type Placement,
  peerInfo,
  placeIncoming,
} from './peer-info.js'

export {
  type ConnectionMethod,
  type Direction,
  type Initiator,
  type PeerInfo,
  type Placement,
  peerInfo,
  placeIncoming,
} from './peer-info.js'

/** Why a connection is not taken: `per-ip`/`per-prefix` are `inboundLimits` (inbound-slots.ts). */
export type Refusal = 'self' | 'duplicate' | 'max-inbound' | 'max-outbound' | 'closed' | SlotRefusal

export interface ConnectionSetOptions {
  netType: NetType
  nodeId: string
  maxInbound: number
  maxOutbound: number
  /** Per-network limits and idle eviction of inbound slots. Default `inboundLimits`' defaults. */
  inboundLimits?: ResolvedInboundLimits
  onAdd(con: LineSocket, info: PeerInfo): void
  onRemove(con: LineSocket, info: PeerInfo): void
  /** A connection evicted from its inbound slot for a newcomer (it is closed, then removed). */
  onEvict?(con: LineSocket, info: PeerInfo | undefined): void
}

export class ConnectionSet {
  readonly #opts: ConnectionSetOptions
  readonly #cons = new Map<LineSocket, PeerInfo>()
  /** Admitted (the peer was told OK) and not added yet: they hold their slot. */
  readonly #reserved = new Map<LineSocket, PeerInfo>()
  readonly #slots: InboundSlots
  #closed = false
  /** Why the last inbound admission was refused, for the refusal line. */
  #detail = ''

  constructor(opts: ConnectionSetOptions) {
    this.#opts = opts
    const limits = opts.inboundLimits ?? resolveInboundLimits({}, opts.maxInbound, MAX_PENDING_HANDSHAKES)
    this.#slots = new InboundSlots({ ...limits, maxInbound: opts.maxInbound })
  }

  get size(): number {
    return this.#cons.size
  }

  /** Connections in `direction`, admitted ones not added yet included. */
  count(direction: Direction): number {
    let n = 0
    for (const m of [this.#cons, this.#reserved])
      for (const info of m.values()) if (info.direction === direction) n++
    return n
  }

  /** Whether a connection to `nodeId` is in the set (or admitted into it). */
  hasNode(nodeId: string): boolean {
    return this.#find(nodeId) !== undefined
  }

  info(con: LineSocket): PeerInfo | undefined {
    return this.#cons.get(con)
  }

  /** The live connections (dead ones still listed are dropped first). */
  live(): LineSocket[] {
    for (const con of this.#cons.keys()) if (!con.isOpen) this.#remove(con)
    return [...this.#cons.keys()]
  }

  /** Why `add` would refuse a connection to `nodeId` in `direction` now, or undefined. */
  refusal(nodeId: string, direction: Direction): Refusal | undefined {
    if (direction === 'inbound' && this.count('inbound') >= this.#opts.maxInbound) return 'max-inbound'
    return this.#rules(nodeId, direction)
  }

  /**
   * Admission (asked by the connector after a connection's hello, before the peer is told `OK`): takes
   * the slot for `con` until it is added or closes, or says why not (`refusalText()` says more). An
   * inbound connection may evict an idle one (inbound-slots.ts): that one is closed and removed now.
   */
  reserve(con: LineSocket, info: PeerInfo): Refusal | undefined {
    const why = this.#admit(con, info)
    if (why !== undefined) return why
    this.#reserved.set(con, info)
    con.once('close', () => this.#remove(con))
    return undefined
  }

  /** A sentence on the last refusal of `reserve()`/`add()`. */
  refusalText(why: Refusal): string {
    switch (why) {
      case 'max-inbound':
      case 'per-ip':
      case 'per-prefix':
        return this.#detail
      case 'max-outbound':
        return `already ${this.#opts.maxOutbound} outbound connections (maxOutbound)`
      case 'duplicate':
        return 'already connected to this node (one connection per node)'
      case 'self':
        return 'this is a connection to ourselves'
      case 'closed':
        return 'the node is stopping'
    }
  }

  /**
   * Adds a connection (admitted by `reserve()`, or checked now), or closes it and says why not. In a
   * `p2p` net, when both nodes connected to each other at once (dialled, punched or asked for a reverse
   * connect), both sides keep the connection asked for by the node with the larger id (each can work
   * that out alone: both agree on who asked, see {@link Initiator}), and close the other. Two
   * connections asked for by the same node (a retry): the first one stays.
   */
  add(con: LineSocket, info: PeerInfo): Refusal | undefined {
    if (!con.isOpen) return 'closed'
    const reserved = this.#reserved.delete(con)
    const why = reserved ? (this.#closed ? 'closed' : undefined) : this.#admit(con, info)
    if (why !== undefined) {
      this.#slots.delete(con)
      con.close()
      return why
    }
    if (this.#opts.netType === 'p2p') {
      const existing = this.#find(info.nodeId, con)
      if (existing !== undefined) {
        const [old, oldInfo] = existing
        if (survivor(this.#asker(info), this.#asker(oldInfo)) === 'old') {
          this.#slots.delete(con)
          con.close()
          return 'duplicate'
        }
        old.close()
        this.#remove(old)
      }
    }
    this.#cons.set(con, info)
    if (!reserved) con.once('close', () => this.#remove(con))
    this.#opts.onAdd(con, info)
    return undefined
  }

  /** Closes every connection; later `add`s are refused. */
  closeAll(): LineSocket[] {
    this.#closed = true
    for (const con of [...this.#reserved.keys()]) con.close()
    const all = [...this.#cons.keys()]
    for (const con of all) {
      con.close()
      this.#remove(con)
    }
    return all
  }

  #rules(nodeId: string, direction: Direction): Refusal | undefined {
    if (this.#closed) return 'closed'
    if (direction === 'outbound' && this.count('outbound') >= this.#opts.maxOutbound) return 'max-outbound'
    if (this.#opts.netType === 'direct') return undefined
    if (nodeId === this.#opts.nodeId) return 'self'
    return undefined
  }

  /** The rules, then (inbound) a slot by network, evicting an idle connection when one must go. */
  #admit(con: LineSocket, info: PeerInfo): Refusal | undefined {
    if (!con.isOpen) return 'closed'
    const why = this.#rules(info.nodeId, info.direction)
    if (why !== undefined) return why
    if (this.#opts.netType === 'p2p') {
      const existing = this.#find(info.nodeId, con)
      if (existing !== undefined && survivor(this.#asker(info), this.#asker(existing[1])) === 'old') {
        return 'duplicate'
      }
    }
    if (info.direction !== 'inbound') return undefined
    if (con.remoteAddress === undefined || info.method === 'relay') {
      // No address of the peer's to count by (not a TCP socket; a circuit comes from its relay's
      // address, and the relay limits circuits per peer itself): the plain count alone.
      this.#detail = `all ${this.#opts.maxInbound} inbound slots are taken (maxInbound)`
      return this.count('inbound') >= this.#opts.maxInbound ? 'max-inbound' : undefined
    }
    const slot = this.#slots.admit(con.remoteAddress)
    if (!slot.ok) {
      this.#detail = slot.detail
      return slot.refusal
    }
    if (slot.victim === undefined && this.count('inbound') >= this.#opts.maxInbound) {
      // the rest of the slots are held by connections counted apart (circuits)
      this.#detail = `all ${this.#opts.maxInbound} inbound slots are taken (maxInbound)`
      return 'max-inbound'
    }
    if (slot.victim !== undefined) {
      const victim = slot.victim
      this.#opts.onEvict?.(victim, this.#cons.get(victim) ?? this.#reserved.get(victim))
      victim.close()
      this.#remove(victim)
    }
    this.#slots.add(con, slot.keys)
    return undefined
  }

  /** The node id of the node that asked for the connection. */
  #asker(info: PeerInfo): string {
    return info.initiator === 'local' ? this.#opts.nodeId : info.nodeId
  }

  /** A live or admitted connection to `nodeId` other than `except`. */
  #find(nodeId: string, except?: LineSocket): [LineSocket, PeerInfo] | undefined {
    for (const m of [this.#cons, this.#reserved])
      for (const e of m) if (e[1].nodeId === nodeId && e[0] !== except && e[0].isOpen) return e
    return undefined
  }

  #remove(con: LineSocket): void {
    this.#slots.delete(con)
    this.#reserved.delete(con)
    const info = this.#cons.get(con)
    if (info === undefined) return
    this.#cons.delete(con)
    this.#opts.onRemove(con, info)
  }
}

/**
 * Of two connections between the same two nodes, which one both keep: the one asked for by the larger
 * node id; the one already there when the same node asked for both.
 */
export function survivor(newAsker: string, oldAsker: string): 'new' | 'old' {
  return newAsker > oldAsker ? 'new' : 'old'
}

/**
 * The connector's `admit` for a Net: reserves the connection's slot by how it came (an answer to our
 * reverse request is our outbound connection), or the refusal line the dialler gets (`ERR_PEER_FULL`
 * for every full slot, `ERR_DUPLICATE`, `ERR_SELF`, `ERR_NOT_READY` while starting or stopping).
 */
export function admitTo(set: ConnectionSet | undefined, r: ConnectorAdmission): AdmissionRefusal | undefined {
  if (set === undefined) return { code: 'ERR_NOT_READY', text: 'the node is starting or stopping' }
  const how: Placement = r.answer ? ['outbound', 'reverse', 'local'] : placeIncoming(r.method)
  const why = set.reserve(r.connection, peerInfo(r.connection, r.nodeId, ...how))
  if (why === undefined) return undefined
  const code =
    why === 'duplicate'
      ? 'ERR_DUPLICATE'
      : why === 'self'
        ? 'ERR_SELF'
        : why === 'closed'
          ? 'ERR_NOT_READY'
          : 'ERR_PEER_FULL'
  return { code, text: set.refusalText(why) }
}
