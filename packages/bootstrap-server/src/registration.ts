/**
 * Registrations: `PASSIVE|SIMULTANEOUS READY` adds a node to the node table, `CLEAR` removes them, and
 * a record that leaves the table (replaced, cleared, expired) is dropped from its connection's books.
 * Ownership (issue 17): the dispatcher has refused every proof that does not hold, so `proven` means a
 * valid signature came with the command. Without one, only a server with `allowUnsigned` lists an id,
 * and never over a proven registration or one from another address; a proven registration is
 * cleared only with proof.
 */
import { timingSafeEqual } from 'node:crypto'
import { formatServerMessage } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import type { NodeRecord } from './node-table.js'
import { endChallenges, movePunches } from './punch-commands.js'
import { type OwnedRecord, unsignedRefusal } from './unsigned-policy.js'

export { isUnproven } from './unsigned-policy.js'

/** `PASSIVE|SIMULTANEOUS READY <port> <max-inbound> <node-id> [<clear-token>]`. */
export function register(
  ctx: CommandContext,
  conn: Connection,
  nodeType: 'passive' | 'simultaneous',
  nodeId: string,
  port: number,
  maxInbound: number,
  clearToken: string | undefined,
  proven: boolean,
): void {
  const refusal = proven ? undefined : unsignedRefusal(ctx, conn, nodeId)
  if (refusal !== undefined) {
    conn.sendError('ERR_SIGNATURE_REQUIRED', `${refusal}; nothing changed`)
    return
  }
  const rec: OwnedRecord = {
    // A parsed id is a slice of its line; a copy lets the line be collected (about 130 bytes per node).
    // The connection's proven id is such a copy already: shared, not copied again.
    nodeId: conn.provenId === nodeId ? conn.provenId : Buffer.from(nodeId, 'latin1').toString('latin1'),
    nodeType,
    ip: conn.ip,
    port,
    maxInbound,
    registeredAt: ctx.now(),
    clearToken: clearToken === undefined ? undefined : Buffer.from(clearToken, 'latin1').toString('latin1'),
    conn,
    slot: -1,
    unproven: !proven,
  }
  const res = ctx.nodes.add(rec, conn.keys)
  if (!res.ok) {
    const where =
      res.reason === 'per-ip'
        ? `from ${conn.ip} (limit ${ctx.opts.maxNodesPerIp})`
        : res.reason === 'per-prefix'
          ? `from prefix=${res.key} (limit ${ctx.opts.maxNodesPerPrefix})`
          : 'on this server'
    conn.sendError('ERR_TOO_MANY_NODES', `too many registered nodes ${where}`)
    return
  }
  if (res.replaced !== undefined) detach(ctx, res.replaced, conn)
  // A literal holds one slot; push() onto [] would reserve 17 (136 bytes more per connection).
  if (conn.nodes === undefined) conn.nodes = [rec.nodeId]
  else conn.nodes.push(rec.nodeId)
  if (nodeType === 'simultaneous') conn.simultaneous++
  ctx.refreshIdle(conn)
  if (ctx.cluster === undefined) {
    registered(ctx, conn, rec, res.replaced)
    return
  }
  // Scale-out: the network-wide rules (per-IP limit, ownership) decide too; unavailable = local only.
  ctx.cluster.register(conn, rec, (verdict) => {
    if (verdict === undefined || verdict.ok) {
      registered(ctx, conn, rec, res.replaced)
      return
    }
    if (ctx.nodes.remove(rec)) detach(ctx, rec, undefined)
    rec.conn = undefined
    if (verdict.reason === 'per-ip') {
      const text = `too many registered nodes from ${conn.ip} on this network (limit ${ctx.opts.maxNodesPerIp})`
      conn.sendError('ERR_TOO_MANY_NODES', text)
    } else {
      const why =
        verdict.reason === 'proof'
          ? `node ${nodeId} is held with proof; only a signed command can act as it`
          : `node ${nodeId} is registered from another address; only a signed command can replace it`
      conn.sendError('ERR_SIGNATURE_REQUIRED', `${why}; nothing changed`)
    }
  })
}

/** The registration holds: `OK`, and a simultaneous node's pending challenges follow it here. */
function registered(
  ctx: CommandContext,
  conn: Connection,
  rec: NodeRecord,
  replaced: NodeRecord | undefined,
): void {
  const simultaneous = rec.nodeType === 'simultaneous'
  conn.send(formatServerMessage({ type: 'OK', what: simultaneous ? 'SIMULTANEOUS' : 'PASSIVE' }))
  if (!simultaneous) return
  // Challenges for this node id pending on an older connection follow it here (pyp2p's RECONNECT).
  const from = replaced?.conn
  if (from !== undefined && from !== conn) movePunches(ctx, from, conn, rec.nodeId)
  ctx.ping(conn)
}

/** A record left the table (replaced, cleared, expired): drop it from its connection's bookkeeping. */
export function detach(ctx: CommandContext, rec: NodeRecord, by: Connection | undefined): void {
  const owner = rec.conn
  if (owner === undefined) return
  if (owner.nodes !== undefined) {
    const i = owner.nodes.indexOf(rec.nodeId)
    if (i !== -1) owner.nodes.splice(i, 1)
    if (owner.nodes.length === 0) owner.nodes = undefined
  }
  if (rec.nodeType === 'simultaneous') {
    owner.simultaneous--
    ctx.refreshIdle(owner)
    if (by !== undefined && by !== owner && owner.isOpen) {
      owner.sendError('ERR_REPLACED', `node ${rec.nodeId} was registered again on another connection`)
    }
  }
}

/**
 * `CLEAR <node-id> <clear-token>`: forgets that registration, whichever connection made it (open or
 * gone), if it was made with this token. The comparison takes the same time for every wrong token. A
 * registration held with proof is cleared only by a signed `CLEAR` (and the token still has to match,
 * so a late `CLEAR` of an old session never removes the node's newer registration).
 */
export function clearByToken(
  ctx: CommandContext,
  conn: Connection,
  nodeId: string,
  token: string,
  proven: boolean,
): void {
  const refusal = proven ? undefined : unsignedRefusal(ctx, conn, nodeId, 'token')
  if (refusal !== undefined) {
    conn.sendError('ERR_SIGNATURE_REQUIRED', `${refusal}; nothing changed`)
    return
  }
  if (!clearMatching(ctx, nodeId, token)) {
    if (ctx.cluster !== undefined) {
      ctx.cluster.clear(conn, nodeId, token, proven)
      return
    }
    conn.sendError('ERR_NO_SUCH_NODE', `no registration of ${nodeId} with this clear token`)
    return
  }
  conn.send(formatServerMessage({ type: 'OK', what: 'CLEAR' }))
}

function clearMatching(ctx: CommandContext, nodeId: string, token: string): boolean {
  const rec = ctx.nodes.get(nodeId)
  if (rec?.clearToken === undefined) return false
  const a = Buffer.from(rec.clearToken, 'latin1')
  const b = Buffer.from(token, 'latin1')
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false
  const owner = rec.conn
  if (!ctx.nodes.remove(rec)) return false
  ctx.cluster?.unregister(rec)
  detach(ctx, rec, undefined)
  rec.conn = undefined
  if (owner !== undefined) endChallenges(ctx, owner, nodeId)
  return true
}

/** CLEAR: forget the nodes this connection registered; its pending challenges end for their candidates. */
export function clearNodes(ctx: CommandContext, conn: Connection): void {
  for (const nodeId of [...(conn.nodes ?? [])]) {
    const rec = ctx.nodes.get(nodeId)
    if (rec === undefined || rec.conn !== conn || !ctx.nodes.remove(rec)) continue
    ctx.cluster?.unregister(rec)
    detach(ctx, rec, undefined)
  }
  conn.nodes = undefined
  endChallenges(ctx, conn)
}
