/**
 * Which of the nodes a bootstrap server listed to connect to (the original's `bootstrap()`): passive
 * nodes, and simultaneous ones when we punch (`punch`); never ourselves or a node already connected or
 * being connected to in a `p2p` net; at most `want`. The connection itself is @pyp2p/unl's connector
 * (net-bootstrap.ts), through the same hello step as every connection.
 */
import { isLocalAddress } from './local-addresses.js'
import type { NodeEntry } from './session.js'

/** Whether a listed node is this node itself: its id, or one of our addresses with one of our ports. */
export function isOurself(entry: NodeEntry, nodeId: string, ports: readonly number[]): boolean {
  if (entry.nodeId === nodeId) return true
  return isLocalAddress(entry.ip) && ports.includes(entry.port)
}

export interface PickOptions {
  want: number
  /** Node ids being dialled now. */
  pending: ReadonlySet<string>
  /** Skip ourselves and nodes already connected (a `p2p` net). */
  p2p: boolean
  /** Take simultaneous nodes too (we punch to them); otherwise they are skipped. */
  punch: boolean
  nodeId: string
  /** Our listening port and public (mapped) port. */
  ports: readonly number[]
  connected(nodeId: string): boolean
}

/** The listed nodes to dial, in the server's (random) order, at most `want`. */
export function pickNodes(entries: readonly NodeEntry[], o: PickOptions): NodeEntry[] {
  const picked: NodeEntry[] = []
  for (const e of entries) {
    if (picked.length >= o.want) break
    if (o.pending.has(e.nodeId)) continue
    if (e.nodeType === 'simultaneous' && !o.punch) continue
    if (o.p2p && (isOurself(e, o.nodeId, o.ports) || o.connected(e.nodeId))) continue
    if (o.p2p && picked.some((p) => p.nodeId === e.nodeId)) continue
    picked.push(e)
  }
  return picked
}
