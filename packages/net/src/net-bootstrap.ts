/**
 * `net.bootstrap()`: ask the bootstrap server for nodes, pick the ones to dial (outbound.ts), and dial
 * each through @pyp2p/unl's connector (`dialNode`: the same hello step as every connection), up to
 * `maxOutbound` in all.
 */
import type { LineSocket } from '@pyp2p/framing'
import type { RendezvousSession } from '@pyp2p/punch'
import type { UnlConnector } from '@pyp2p/unl'
import type createDebug from 'debug'
import type { ConnectionSet, PeerInfo } from './connection-set.js'
import { NetError } from './errors.js'
import type { ResolvedNetOptions } from './options.js'
import { pickNodes } from './outbound.js'
import { listNodes, type NodeEntry } from './session.js'

export interface BootstrapContext {
  options: ResolvedNetOptions
  session: RendezvousSession
  connector: UnlConnector
  set: ConnectionSet
  nodeId: string
  /** Our listening port and public (mapped) port. */
  ports: readonly number[]
  /** Node ids being dialled now (shared by concurrent calls). */
  pending: Set<string>
  log: createDebug.Debugger
  add(con: LineSocket, nodeId: string): PeerInfo | undefined
}

export async function bootstrapNet(ctx: BootstrapContext, signal: AbortSignal): Promise<PeerInfo[]> {
  const { options, set } = ctx
  const want = options.maxOutbound - set.count('outbound') - ctx.pending.size
  if (want <= 0) return []
  const entries = await listNodes(ctx.session, options.servers, want + 2, signal)
  const picked = pickNodes(entries, {
    want,
    pending: ctx.pending,
    p2p: options.netType === 'p2p',
    nodeId: ctx.nodeId,
    ports: ctx.ports,
    connected: (nodeId) => set.hasNode(nodeId),
  })
  const added = await Promise.all(picked.map((e) => dial(ctx, e, signal)))
  return added.filter((a): a is PeerInfo => a !== undefined)
}

async function dial(
  ctx: BootstrapContext,
  entry: NodeEntry,
  signal: AbortSignal,
): Promise<PeerInfo | undefined> {
  ctx.pending.add(entry.nodeId)
  try {
    const { connection } = await ctx.connector.dialNode(
      { nodeId: entry.nodeId, host: entry.ip, port: entry.port },
      { signal, timeout: ctx.options.dialTimeout },
    )
    return ctx.add(connection, entry.nodeId)
  } catch (err) {
    const why = (err as Error).message
    ctx.log('bootstrap: %s:%d (%s) not reachable: %s', entry.ip, entry.port, entry.nodeId, why)
    if (signal.aborted) throw NetError.ABORTED(signal.reason)
    return undefined
  } finally {
    ctx.pending.delete(entry.nodeId)
  }
}
