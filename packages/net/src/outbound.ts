/**
 * Dialling the nodes a bootstrap server lists (the original's `bootstrap()` + `add_node()`): each
 * connection starts with @pyp2p/unl's hello line (`PYP2P-CONNECT/1 <nonce> <our node id>`) so the
 * listening side knows who we are, exactly as `unl.connect()` dials do.
 */
import { randomBytes } from 'node:crypto'
import { connectLine, type LineLimits, type LineSocket } from '@pyp2p/framing'
import { formatConnectHello, NONCE_BYTES } from '@pyp2p/unl'
import { isLocalAddress } from './local-addresses.js'
import type { NodeEntry } from './rendezvous-session.js'

export interface DialOptions {
  nodeId: string
  timeout: number
  lineLimits: LineLimits
  signal: AbortSignal
}

/** Connects to a listed node and says hello. Rejects with @pyp2p/framing's connect errors. */
export async function dialNode(entry: NodeEntry, opts: DialOptions): Promise<LineSocket> {
  const con = await connectLine({
    host: entry.ip,
    port: entry.port,
    timeout: opts.timeout,
    signal: opts.signal,
    ...opts.lineLimits,
  })
  try {
    con.sendLine(formatConnectHello(randomBytes(NONCE_BYTES).toString('hex'), opts.nodeId))
  } catch (err) {
    con.close()
    throw err
  }
  return con
}

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
    if (o.p2p && (isOurself(e, o.nodeId, o.ports) || o.connected(e.nodeId))) continue
    if (o.p2p && picked.some((p) => p.nodeId === e.nodeId)) continue
    picked.push(e)
  }
  return picked
}
