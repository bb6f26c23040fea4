/**
 * The live connections of a Net and the rules on them: `maxInbound`/`maxOutbound`, and in a `p2p` net
 * no connection to ourselves and one connection per node. Dead connections leave the set as soon as
 * they close.
 */
import type { LineSocket } from '@pyp2p/framing'
import type { NetType } from './options.js'

export type Direction = 'inbound' | 'outbound'

/**
 * How a connection was made: `bootstrap` (we dialled a node the server listed), `incoming` (a node
 * dialled our listening port), or @pyp2p/unl's method for `net.unl.connect()` (`lan`, `direct`,
 * `reverse`, `punch`).
 */
export type ConnectionMethod = 'bootstrap' | 'incoming' | 'lan' | 'direct' | 'reverse' | 'punch'

/**
 * Who asked for a connection: `local` (we dialled, punched to it, or asked it through the relay to
 * dial us) or `remote` (it dialled our port, punched to us, or asked us to dial it). Both ends of one
 * connection agree on who that node is, which is what the `p2p` rule on duplicates needs.
 */
export type Initiator = 'local' | 'remote'

export interface PeerInfo {
  /** The peer's node id (what it claimed in its hello line, or what the server listed). */
  nodeId: string
  direction: Direction
  method: ConnectionMethod
  /** Who asked for the connection (see {@link Initiator}). */
  initiator: Initiator
  /**
   * Why it was made this way, one sentence: for a punch, which node asked for it and why punching was
   * the way (e.g. `bootstrap(): the server listed it as simultaneous: both nodes are simultaneous (our
   * NAT preserving, theirs unknown): hole punched through the bootstrap server in 1725 ms`).
   */
  reason: string
  /** The peer's address and port on this connection. */
  host: string
  port: number
  /** When the connection joined the net (ms since the epoch). */
  since: number
}

/** How a connection joins: direction, method, who asked for it (default: by direction), why (default: by method). */
export type Placement = [Direction, ConnectionMethod, Initiator?, string?]

/** The record of a connection joining now. */
export function peerInfo(
  con: LineSocket,
  nodeId: string,
  direction: Direction,
  method: ConnectionMethod,
  initiator: Initiator = direction === 'outbound' ? 'local' : 'remote',
  reason: string = defaultReason(method, initiator),
): PeerInfo {
  const host = con.remoteAddress ?? ''
  const port = con.remotePort ?? 0
  return { nodeId, direction, method, initiator, reason, host, port, since: Date.now() }
}

function defaultReason(method: ConnectionMethod, initiator: Initiator): string {
  switch (method) {
    case 'bootstrap':
      return 'bootstrap(): the server listed it as passive, and we dialled it'
    case 'incoming':
      return 'it dialled our listening port'
    case 'punch':
      return initiator === 'local'
        ? 'we punched a hole to it through the bootstrap server'
        : 'it asked the bootstrap server for a hole punch to us (we are simultaneous), and we took part'
    case 'reverse':
      return initiator === 'local'
        ? 'we asked it through the relay to dial us, and it did'
        : 'it asked us through the relay to dial it (reverse connect), and we did'
    default:
      return `unl.connect(): ${method}`
  }
}

/**
 * How a connection the connector handed us (not one we asked for) joins: a reverse dial-back is ours
 * (outbound) but asked for by the peer, a punch to us and an accepted dial are the peer's (inbound).
 */
export function placeIncoming(
  method: 'lan' | 'direct' | 'reverse' | 'punch',
): [Direction, ConnectionMethod, Initiator] {
  if (method === 'reverse') return ['outbound', 'reverse', 'remote']
  return method === 'punch' ? ['inbound', 'punch', 'remote'] : ['inbound', 'incoming', 'remote']
}

export type Refusal = 'self' | 'duplicate' | 'max-inbound' | 'max-outbound' | 'closed'

export interface ConnectionSetOptions {
  netType: NetType
  nodeId: string
  maxInbound: number
  maxOutbound: number
  onAdd(con: LineSocket, info: PeerInfo): void
  onRemove(con: LineSocket, info: PeerInfo): void
}

export class ConnectionSet {
  readonly #opts: ConnectionSetOptions
  readonly #cons = new Map<LineSocket, PeerInfo>()
  #closed = false

  constructor(opts: ConnectionSetOptions) {
    this.#opts = opts
  }

  get size(): number {
    return this.#cons.size
  }

  count(direction: Direction): number {
    let n = 0
    for (const info of this.#cons.values()) if (info.direction === direction) n++
    return n
  }

  /** Whether a connection to `nodeId` is in the set. */
  hasNode(nodeId: string): boolean {
    for (const info of this.#cons.values()) if (info.nodeId === nodeId) return true
    return false
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
    if (this.#closed) return 'closed'
    if (direction === 'inbound' && this.count('inbound') >= this.#opts.maxInbound) return 'max-inbound'
    if (direction === 'outbound' && this.count('outbound') >= this.#opts.maxOutbound) return 'max-outbound'
    if (this.#opts.netType === 'direct') return undefined
    if (nodeId === this.#opts.nodeId) return 'self'
    return undefined
  }

  /**
   * Adds a connection, or closes it and says why not. In a `p2p` net, when both nodes connected to
   * each other at once (dialled, punched or asked for a reverse connect), both sides keep the
   * connection asked for by the node with the larger id (each can work that out alone: both agree on
   * who asked, see {@link Initiator}), and close the other. Two connections asked for by the same node
   * (a retry): the first one stays.
   */
  add(con: LineSocket, info: PeerInfo): Refusal | undefined {
    if (!con.isOpen) return 'closed'
    const why = this.refusal(info.nodeId, info.direction)
    if (why !== undefined) {
      con.close()
      return why
    }
    if (this.#opts.netType === 'p2p') {
      const existing = this.#find(info.nodeId)
      if (existing !== undefined) {
        const [old, oldInfo] = existing
        if (survivor(this.#asker(info), this.#asker(oldInfo)) === 'old') {
          con.close()
          return 'duplicate'
        }
        old.close()
        this.#remove(old)
      }
    }
    this.#cons.set(con, info)
    con.once('close', () => this.#remove(con))
    this.#opts.onAdd(con, info)
    return undefined
  }

  /** Closes every connection; later `add`s are refused. */
  closeAll(): LineSocket[] {
    this.#closed = true
    const all = [...this.#cons.keys()]
    for (const con of all) {
      con.close()
      this.#remove(con)
    }
    return all
  }

  /** The node id of the node that asked for the connection. */
  #asker(info: PeerInfo): string {
    return info.initiator === 'local' ? this.#opts.nodeId : info.nodeId
  }

  #find(nodeId: string): [LineSocket, PeerInfo] | undefined {
    for (const entry of this.#cons) if (entry[1].nodeId === nodeId && entry[0].isOpen) return entry
    return undefined
  }

  #remove(con: LineSocket): void {
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
