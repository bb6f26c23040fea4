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

export interface PeerInfo {
  /** The peer's node id (what it claimed in its hello line, or what the server listed). */
  nodeId: string
  direction: Direction
  method: ConnectionMethod
  /** The peer's address and port on this connection. */
  host: string
  port: number
  /** When the connection joined the net (ms since the epoch). */
  since: number
}

/** The record of a connection joining now. */
export function peerInfo(
  con: LineSocket,
  nodeId: string,
  direction: Direction,
  method: ConnectionMethod,
): PeerInfo {
  const host = con.remoteAddress ?? ''
  return { nodeId, direction, method, host, port: con.remotePort ?? 0, since: Date.now() }
}

/**
 * How a connection the connector handed us (not one we asked for) joins: a reverse dial-back is ours
 * (outbound), a punch to us and an accepted dial are the peer's (inbound).
 */
export function placeIncoming(method: 'lan' | 'direct' | 'reverse' | 'punch'): [Direction, ConnectionMethod] {
  if (method === 'reverse') return ['outbound', 'reverse']
  return method === 'punch' ? ['inbound', 'punch'] : ['inbound', 'incoming']
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
   * Adds a connection, or closes it and says why not. In a `p2p` net, when both nodes dialled each
   * other at once, both sides keep the connection dialled by the node with the larger id (each can
   * work that out alone), and close the other.
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
        if (this.#dialer(info) === this.#dialer(oldInfo) || this.#dialer(info) < this.#dialer(oldInfo)) {
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

  #dialer(info: PeerInfo): string {
    return info.direction === 'outbound' ? this.#opts.nodeId : info.nodeId
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
