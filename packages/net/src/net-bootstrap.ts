/**
 * `net.bootstrap()`: ask the bootstrap server for nodes, pick the ones to connect to (outbound.ts), and
 * connect to each through @pyp2p/unl's connector, all at once, up to `maxOutbound` in all (a node that
 * refuses, e.g. `ERR_PEER_FULL`, or cannot be reached is replaced by the next one listed): passive
 * nodes are dialled (`dialNode`); in a `p2p` net a simultaneous node also punches to the simultaneous
 * nodes listed (`s:` entries), through the connector's plan like `net.unl.connect()` (issue 18; the
 * original never punched in a p2p net because it could run only one punch at a time).
 */
import type { LineSocket } from '@pyp2p/framing'
import type { RendezvousSession } from '@pyp2p/punch'
import { type ConnectMethod, UNL, type UnlConnector } from '@pyp2p/unl'
import type createDebug from 'debug'
import { connectReason } from './connect-reason.js'
import type { ConnectionSet, PeerInfo } from './connection-set.js'
import { BOOTSTRAP_ASK_EXTRA, BOOTSTRAP_PUNCH_TIMEOUT_MS } from './constants.js'
import { NetError } from './errors.js'
import type { ResolvedNetOptions } from './options.js'
import { pickNodes } from './outbound.js'
import { listNodes, type NodeEntry, registerOn } from './session.js'
import type { NetResources } from './start.js'

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
  add(
    con: LineSocket,
    nodeId: string,
    method: 'bootstrap' | ConnectMethod,
    reason: string,
  ): PeerInfo | undefined
}

export async function bootstrapNet(ctx: BootstrapContext, signal: AbortSignal): Promise<PeerInfo[]> {
  const { options, set } = ctx
  const want = options.maxOutbound - set.count('outbound') - ctx.pending.size
  if (want <= 0) return []
  // A simultaneous node in a p2p net punches to the simultaneous nodes listed (a direct net does not:
  // unchanged since before issue 18).
  const punch = options.netType === 'p2p' && ctx.connector.unl.nodeType === 'simultaneous'
  // Servers list simultaneous nodes too: a node that cannot punch asks for more so they do not crowd
  // out the passive ones it can use.
  const ask = punch ? want + BOOTSTRAP_ASK_EXTRA : 2 * want + BOOTSTRAP_ASK_EXTRA
  const entries = await listNodes(ctx.session, options.servers, ask, signal)
  // A node that refuses (ERR_PEER_FULL, ...) or cannot be reached is replaced by the next one listed.
  const added: PeerInfo[] = []
  for (let left = entries; added.length < want; ) {
    const picked = pickNodes(left, {
      want: want - added.length,
      pending: ctx.pending,
      p2p: options.netType === 'p2p',
      punch,
      nodeId: ctx.nodeId,
      ports: ctx.ports,
      connected: (nodeId) => set.hasNode(nodeId),
    })
    if (picked.length === 0) break
    left = left.filter((e) => !picked.includes(e))
    const round = await Promise.all(picked.map((e) => connectTo(ctx, e, signal)))
    added.push(...round.filter((a): a is PeerInfo => a !== undefined))
  }
  return added
}

async function connectTo(
  ctx: BootstrapContext,
  entry: NodeEntry,
  signal: AbortSignal,
): Promise<PeerInfo | undefined> {
  ctx.pending.add(entry.nodeId)
  try {
    if (entry.nodeType === 'passive') {
      const { connection } = await ctx.connector.dialNode(
        { nodeId: entry.nodeId, host: entry.ip, port: entry.port },
        { signal, timeout: ctx.options.dialTimeout },
      )
      return ctx.add(
        connection,
        entry.nodeId,
        'bootstrap',
        'bootstrap(): the server listed it as passive, and we dialled it',
      )
    }
    // A simultaneous node: the connector's plan punches (or, behind our own router, asks it through
    // the relay to dial our LAN address: hairpin NAT is rare, so a punch to our own WAN address fails).
    const theirs = listedUnl(entry)
    const result = await ctx.connector.connectWithReport(theirs, {
      signal,
      timeout: BOOTSTRAP_PUNCH_TIMEOUT_MS,
    })
    const why = 'bootstrap(): the server listed it as simultaneous'
    const reason = connectReason(why, result, ctx.connector.unl, theirs)
    return ctx.add(result.connection, entry.nodeId, result.method, reason)
  } catch (err) {
    if (signal.aborted) throw NetError.ABORTED(signal.reason)
    const refusal = refusalOf(err)
    if (refusal === 'ERR_DUPLICATE') {
      // Both punched (or asked) at once: the survivor rule kept the other connection, at both ends.
      ctx.log('bootstrap: %s already connected (the connection both keep is the other one)', entry.nodeId)
      return undefined
    }
    const why = (err as Error).message
    ctx.log('bootstrap: %s:%d (%s) not reachable: %s', entry.ip, entry.port, entry.nodeId, why)
    return undefined
  } finally {
    ctx.pending.delete(entry.nodeId)
  }
}

/** The refusal that ended a connect (the connector stops at a final one: its last attempt), if any. */
export function refusalOf(err: unknown): string | undefined {
  type Attempt = { skipped?: boolean; error?: { refusal?: unknown } }
  const attempts = (err as { attempts?: readonly Attempt[] }).attempts ?? []
  const last = attempts.filter((a) => a.skipped !== true).at(-1)
  return typeof last?.error?.refusal === 'string' ? last.error.refusal : undefined
}

/** What a `NODES` entry tells of a simultaneous node, as a UNL for the connector's plan. */
export function listedUnl(entry: NodeEntry): UNL {
  return new UNL({
    nodeId: entry.nodeId,
    nodeType: entry.nodeType,
    natType: 'unknown',
    forwarding: 'none',
    port: entry.port,
    wanAddress: entry.ip,
    lanAddress: '',
  })
}

/**
 * `net.advertise()`: registers with the bootstrap server (passive: listed; simultaneous: answers
 * hole-punch challenges). An active node has nothing to advertise: resolves false.
 */
export async function advertiseNet(
  res: NetResources,
  session: RendezvousSession,
  o: ResolvedNetOptions,
  log: createDebug.Debugger,
  signal: AbortSignal,
): Promise<boolean> {
  const { nodeType } = res.report
  if (nodeType === 'active') {
    log('advertise: an active node is not listed (nobody can connect to it)')
    return false
  }
  // A simultaneous node's challenges are answered by the connector's puncher on this same session.
  const reg = { kind: nodeType, port: res.unl.publicPort, maxInbound: o.maxInbound }
  await registerOn(session, o.servers, reg, signal)
  return true
}
