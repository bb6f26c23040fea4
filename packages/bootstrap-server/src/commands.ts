/**
 * The rendezvous commands: one handler per client message, each sending exactly one reply (PROTOCOL.md
 * of @pyp2p/rendezvous-protocol). Registrations live in registration.ts, punches in punch-commands.ts;
 * this file routes a parsed message to them.
 */
import { type ClientMessage, formatServerMessage, type NodeEntry } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import { RTT_SMOOTHING } from './constants.js'
import type { CommandContext } from './context.js'
import type { NodeRecord } from './node-table.js'
import { accept, candidate, reject, releaseHeld } from './punch-commands.js'
import type { PunchEnd } from './punch-table.js'
import { clearByToken, clearNodes, isUnproven, register } from './registration.js'
import type { SharedNode } from './store/cluster-store.js'

/**
 * Handles one parsed command. `proven`: it acts as a node id proven on this connection (its own valid
 * proof, or an earlier one: the dispatcher decides); otherwise unsigned-policy.ts applies.
 */
export function handleCommand(
  ctx: CommandContext,
  conn: Connection,
  msg: ClientMessage,
  proven: boolean,
): void {
  switch (msg.type) {
    case 'BOOTSTRAP': {
      if (ctx.cluster !== undefined) {
        ctx.cluster.bootstrap(conn, msg.count, msg.marked === true)
        return
      }
      const withSimultaneous = ctx.opts.bootstrapSimultaneous
      const picked = ctx.nodes.sample(msg.count, conn.nodes, ctx.allowLoopback, withSimultaneous)
      conn.send(nodesLine(picked, msg.marked === true))
      return
    }
    case 'READY':
      register(ctx, conn, msg.nodeType, msg.nodeId, msg.port, msg.maxInbound, msg.clearToken, proven)
      return
    case 'CHECK':
      ctx.check(conn, msg.port, msg.nonce)
      return
    case 'SOURCE':
      conn.send(formatServerMessage({ type: 'REMOTE', port: conn.port }))
      return
    case 'CANDIDATE':
      if (ctx.cluster !== undefined && !connectedHere(ctx, msg.targetNodeId, conn)) {
        ctx.cluster.candidate(conn, msg.targetNodeId, msg.nodeId, msg.ports, proven)
        return
      }
      if (punchAllowed(ctx, conn, msg.targetNodeId, msg.nodeId)) {
        candidate(ctx, conn, msg.targetNodeId, msg.nodeId, msg.ports, proven)
      }
      return
    case 'ACCEPT':
      accept(ctx, conn, msg.punchId, msg.ports)
      return
    case 'INBOUND':
      ctx.punches.setInbound(conn, msg.policy)
      conn.send(formatServerMessage({ type: 'OK', what: 'INBOUND' }))
      return
    case 'REJECT':
      reject(ctx, conn, msg.punchId, msg.reason)
      return
    case 'CLEAR':
      if (msg.nodeId !== undefined && msg.clearToken !== undefined) {
        clearByToken(ctx, conn, msg.nodeId, msg.clearToken, proven)
        return
      }
      clearNodes(ctx, conn)
      conn.send(formatServerMessage({ type: 'OK', what: 'CLEAR' }))
      return
    case 'QUIT':
      conn.close()
      return
    case 'PING':
      conn.send(formatServerMessage({ type: 'PONG', token: msg.token }))
      return
    case 'PONG':
      if (conn.pingToken === msg.token) {
        // Real elapsed time (a measurement of the network), not the server's injectable clock.
        conn.addRttSample(performance.now() - conn.pingAt, RTT_SMOOTHING)
        conn.pingToken = undefined
        releaseHeld(ctx, conn)
        ctx.cluster?.measured(conn)
      }
      return
  }
}

/** A `NODES` line of these records; unproven ones marked only for clients that asked (`MARKED`). */
export function nodesLine(picked: readonly (NodeRecord | SharedNode)[], marked: boolean): string {
  // (A v1 parser refuses the marker.) A plain loop, no spread: this runs for every BOOTSTRAP.
  const nodes: NodeEntry[] = new Array(picked.length)
  for (let i = 0; i < picked.length; i++) {
    const r = picked[i] as NodeRecord | SharedNode
    const entry: NodeEntry = { nodeType: r.nodeType, nodeId: r.nodeId, ip: r.ip, port: r.port }
    if (marked && isUnproven(r as NodeRecord)) nodes[i] = { ...entry, unproven: true }
    else nodes[i] = entry
  }
  return formatServerMessage({ type: 'NODES', nodes })
}

/** Whether `CANDIDATE` for `nodeId` is this instance's to handle: the target (or the asker) is here. */
function connectedHere(ctx: CommandContext, nodeId: string, conn: PunchEnd): boolean {
  const rec = ctx.nodes.get(nodeId)
  return rec?.conn?.isOpen === true || rec?.conn === conn || conn.nodes?.includes(nodeId) === true
}

/**
 * Pending punches are bounded in total, per candidate IP and per prefix (punch-table.ts); a `CANDIDATE`
 * that replaces the same pair's pending punch frees as much as it takes, so it is not counted again.
 */
export function punchAllowed(
  ctx: CommandContext,
  conn: PunchEnd,
  targetNodeId: string,
  nodeId: string,
): boolean {
  const target = ctx.nodes.get(targetNodeId)?.conn
  if (target !== undefined && ctx.punches.findPair(nodeId, target) !== undefined) return true
  const r = ctx.punches.refusal(conn.keys ?? conn.ip)
  if (r === undefined) return true
  ctx.limitHit(`punches.${r.refusedBy}`, r.prefix, { ip: conn.ip })
  const text =
    r.refusedBy === 'full'
      ? `the server has ${r.limit} pending punches; retry later`
      : `${r.refusedBy === 'per-ip' ? 'ip' : 'prefix'}=${r.key} limit=${r.limit} too many pending punches from this ${r.refusedBy === 'per-ip' ? 'address' : 'network'}; retry later`
  conn.sendError('ERR_TOO_MANY_CANDIDATES', text)
  return false
}
