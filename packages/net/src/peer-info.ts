/**
 * Who is at the other end of a connection of a Net and how it was made (`net.info(con)`).
 */
import type { LineSocket } from '@pyp2p/framing'

export type Direction = 'inbound' | 'outbound'

/**
 * How a connection was made: `bootstrap` (we dialled a node the server listed), `incoming` (a node
 * dialled our listening port), or @pyp2p/unl's method for `net.unl.connect()` (`lan`, `direct`,
 * `reverse`, `punch`).
 */
export type ConnectionMethod = 'bootstrap' | 'incoming' | 'lan' | 'direct' | 'reverse' | 'punch' | 'relay'

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
  /**
   * On `disconnect`: the code of the error that closed it, when one did (`ERR_CIRCUIT_LIMIT` when a
   * relay's limit ended its circuit, `ERR_CIRCUIT_ENDED`, `ERR_KEEPALIVE_TIMEOUT`...).
   */
  code?: string
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
    case 'relay':
      return initiator === 'local'
        ? 'no other method reached it: a circuit through a relay where it holds a reservation'
        : 'it opened a circuit to us through a relay where we hold a reservation'
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
  method: 'lan' | 'direct' | 'reverse' | 'punch' | 'relay',
): [Direction, ConnectionMethod, Initiator] {
  if (method === 'reverse') return ['outbound', 'reverse', 'remote']
  if (method === 'relay') return ['inbound', 'relay', 'remote']
  return method === 'punch' ? ['inbound', 'punch', 'remote'] : ['inbound', 'incoming', 'remote']
}
