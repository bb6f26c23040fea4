/**
 * The rendezvous commands: one handler per client message, each sending exactly one reply (PROTOCOL.md
 * of @pyp2p/rendezvous-protocol). Kept apart from the socket handling in server.ts.
 */
import { timingSafeEqual } from 'node:crypto'
import { type ClientMessage, formatServerMessage, type NodeEntry } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import { RTT_SMOOTHING } from './constants.js'
import { FIGHT_HOLD_MS, fightDelays, fightOrder } from './fight-delay.js'
import type { NodeRecord, NodeTable } from './node-table.js'
import type { ResolvedOptions } from './options.js'
import type { Punch, PunchTable } from './punch-table.js'

/** What the handlers need from the server. */
export interface CommandContext {
  readonly opts: ResolvedOptions
  readonly nodes: NodeTable
  readonly punches: PunchTable
  readonly allowLoopback: boolean
  now(): number
  /** `CHECK`: dial back to the connection's IP at `port` (see dial-back.ts); replies when done. */
  check(conn: Connection, port: number, nonce: string): void
  refreshIdle(conn: Connection): void
  ping(conn: Connection): void
  /** Counts a FIGHT pair sent. */
  coordinated(): void
}

export function handleCommand(ctx: CommandContext, conn: Connection, msg: ClientMessage): void {
  switch (msg.type) {
    case 'BOOTSTRAP': {
      const picked = ctx.nodes.sample(msg.count, conn.nodes, ctx.allowLoopback)
      const nodes: NodeEntry[] = picked.map((r) => ({
        nodeType: r.nodeType,
        nodeId: r.nodeId,
        ip: r.ip,
        port: r.port,
      }))
      conn.send(formatServerMessage({ type: 'NODES', nodes }))
      return
    }
    case 'READY':
      register(ctx, conn, msg.nodeType, msg.nodeId, msg.port, msg.maxInbound, msg.clearToken)
      return
    case 'CHECK':
      ctx.check(conn, msg.port, msg.nonce)
      return
    case 'SOURCE':
      conn.send(formatServerMessage({ type: 'REMOTE', port: conn.port }))
      return
    case 'CANDIDATE':
      candidate(ctx, conn, msg.targetNodeId, msg.nodeId, msg.ports)
      return
    case 'ACCEPT': {
      const punch = ownPunch(ctx, conn, msg.punchId)
      if (punch === undefined) return
      if (punch.held !== undefined) {
        conn.sendError('ERR_NO_SUCH_PUNCH', 'this punch was accepted already', punch.id)
        return
      }
      refreshBoth(ctx, punch)
      // A side whose first PONG is still out would get a guessed RTT, and the two SYNs would leave up
      // to half that guess apart (the candidate's connection is new for every punch): wait for it.
      if (awaitingRtt(punch)) {
        ctx.punches.hold(punch, msg.ports, FIGHT_HOLD_MS, () => fight(ctx, punch, msg.ports))
        return
      }
      fight(ctx, punch, msg.ports)
      return
    }
    case 'INBOUND':
      ctx.punches.setInbound(conn, msg.policy)
      conn.send(formatServerMessage({ type: 'OK', what: 'INBOUND' }))
      return
    case 'REJECT': {
      const punch = ownPunch(ctx, conn, msg.punchId)
      if (punch === undefined) return
      ctx.punches.delete(punch)
      refreshBoth(ctx, punch)
      conn.send(formatServerMessage({ type: 'OK', what: 'REJECT' }))
      punch.candidate.sendError('ERR_PUNCH_REJECTED', `rejected by the target: ${msg.reason}`, punch.id)
      return
    }
    case 'CLEAR':
      if (msg.nodeId !== undefined && msg.clearToken !== undefined) {
        if (!clearByToken(ctx, msg.nodeId, msg.clearToken)) {
          conn.sendError('ERR_NO_SUCH_NODE', `no registration of ${msg.nodeId} with this clear token`)
          return
        }
      } else {
        clearNodes(ctx, conn)
      }
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
        conn.addRttSample(performance.now() - conn.pingAt, RTT_SMOOTHING)
        conn.pingToken = undefined
        releaseHeld(ctx, conn)
      }
      return
  }
}

function register(
  ctx: CommandContext,
  conn: Connection,
  nodeType: 'passive' | 'simultaneous',
  nodeId: string,
  port: number,
  maxInbound: number,
  clearToken: string | undefined,
): void {
  const rec: NodeRecord = {
    // A parsed id is a slice of its line; a copy lets the line be collected (about 130 bytes per node).
    nodeId: Buffer.from(nodeId, 'latin1').toString('latin1'),
    nodeType,
    ip: conn.ip,
    port,
    maxInbound,
    registeredAt: ctx.now(),
    clearToken: clearToken === undefined ? undefined : Buffer.from(clearToken, 'latin1').toString('latin1'),
    conn,
    slot: -1,
  }
  const res = ctx.nodes.add(rec)
  if (!res.ok) {
    const where =
      res.reason === 'per-ip' ? `from ${conn.ip} (limit ${ctx.opts.maxNodesPerIp})` : 'on this server'
    conn.sendError('ERR_TOO_MANY_NODES', `too many registered nodes ${where}`)
    return
  }
  if (res.replaced !== undefined) detach(ctx, res.replaced, conn)
  conn.nodes ??= []
  conn.nodes.push(rec.nodeId)
  if (nodeType === 'simultaneous') conn.simultaneous++
  ctx.refreshIdle(conn)
  conn.send(formatServerMessage({ type: 'OK', what: nodeType === 'passive' ? 'PASSIVE' : 'SIMULTANEOUS' }))
  if (nodeType !== 'simultaneous') return
  // Challenges for this node id pending on an older connection follow it here (pyp2p's RECONNECT).
  const from = res.replaced?.conn
  if (from !== undefined && from !== conn) movePunches(ctx, from, conn, nodeId)
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

function movePunches(ctx: CommandContext, from: Connection, to: Connection, nodeId: string): void {
  if (from.punches === undefined) return
  for (const p of [...from.punches]) {
    if (p.target !== from || p.targetNodeId !== nodeId) continue
    ctx.punches.delete(p)
    const moved = ctx.punches.create({
      candidate: p.candidate,
      candidateNodeId: p.candidateNodeId,
      candidatePorts: p.candidatePorts,
      target: to,
      targetNodeId: p.targetNodeId,
      createdAt: ctx.now(),
    })
    ctx.refreshIdle(from)
    to.send(challengeLine(moved))
  }
}

function challengeLine(p: Punch): string {
  return formatServerMessage({
    type: 'CHALLENGE',
    punchId: p.id,
    nodeId: p.candidateNodeId,
    ip: p.candidate.ip,
    ports: p.candidatePorts,
  })
}

function candidate(
  ctx: CommandContext,
  conn: Connection,
  targetNodeId: string,
  nodeId: string,
  ports: readonly number[],
): void {
  const rec = ctx.nodes.get(targetNodeId)
  if (targetNodeId === nodeId || rec?.conn === conn || conn.nodes?.includes(targetNodeId)) {
    conn.sendError('ERR_NO_SUCH_NODE', 'a node cannot punch to itself')
    return
  }
  if (rec === undefined || rec.nodeType !== 'simultaneous' || rec.conn === undefined || !rec.conn.isOpen) {
    conn.sendError('ERR_NO_SUCH_NODE', `node ${targetNodeId} is not a connected simultaneous node`)
    return
  }
  const target = rec.conn
  // pyp2p: a new candidate from the same peer replaces its older one.
  const old = ctx.punches.findPair(nodeId, target)
  if (old !== undefined) {
    ctx.punches.delete(old)
    refreshBoth(ctx, old)
    old.candidate.sendError('ERR_REPLACED', 'a newer CANDIDATE from this node replaced this punch', old.id)
    target.sendError('ERR_REPLACED', 'the candidate started a newer punch', old.id)
  }
  if (ctx.punches.countFor(targetNodeId) >= ctx.opts.maxCandidatesPerNode) {
    conn.sendError(
      'ERR_TOO_MANY_CANDIDATES',
      `node ${targetNodeId} has too many pending punches; retry later`,
    )
    return
  }
  if (conn.started >= ctx.opts.maxPunchesPerConnection) {
    conn.sendError('ERR_TOO_MANY_CANDIDATES', 'this connection has too many pending punches')
    return
  }
  const punch = ctx.punches.create({
    candidate: conn,
    candidateNodeId: nodeId,
    candidatePorts: ports,
    target,
    targetNodeId,
    createdAt: ctx.now(),
  })
  refreshBoth(ctx, punch)
  conn.send(formatServerMessage({ type: 'PREDICTION_SET', punchId: punch.id }))
  target.send(challengeLine(punch))
  ctx.ping(conn)
  ctx.ping(target)
}

/** True while a side of the punch has never been measured and its PING is still out. */
function awaitingRtt(p: Punch): boolean {
  const waiting = (c: Connection): boolean => c.rtt === 0 && c.pingToken !== undefined && c.isOpen
  return waiting(p.candidate) || waiting(p.target)
}

/** A PONG arrived on `conn`: the held punches it was the last measurement of get their FIGHT. */
function releaseHeld(ctx: CommandContext, conn: Connection): void {
  if (conn.punches === undefined) return
  for (const p of [...conn.punches]) {
    if (p.held !== undefined && !awaitingRtt(p)) fight(ctx, p, p.held.ports)
  }
}

/**
 * Ends an accepted punch: `FIGHT` to both sides at once, with delays from the measured round trips
 * (and the firing order from what the sides declared with `INBOUND`; see fight-delay.ts).
 */
function fight(ctx: CommandContext, punch: Punch, ports: readonly number[]): void {
  if (!ctx.punches.delete(punch)) return
  refreshBoth(ctx, punch)
  const { candidate, target } = punch
  if (!candidate.isOpen) {
    target.sendError('ERR_PEER_GONE', 'the candidate disconnected before FIGHT', punch.id)
    return
  }
  const first = fightOrder(ctx.punches.inboundOf(candidate), ctx.punches.inboundOf(target))
  const d = fightDelays(candidate.rtt, target.rtt, ctx.opts.fightMarginMs, ctx.opts.defaultRttMs, { first })
  candidate.send(
    formatServerMessage({ type: 'FIGHT', punchId: punch.id, ip: target.ip, ports, delayMs: d.candidateMs }),
  )
  target.send(
    formatServerMessage({
      type: 'FIGHT',
      punchId: punch.id,
      ip: candidate.ip,
      ports: punch.candidatePorts,
      delayMs: d.targetMs,
    }),
  )
  ctx.coordinated()
}

/** The pending punch `id` if this connection is its target; otherwise replies ERR_NO_SUCH_PUNCH. */
function ownPunch(ctx: CommandContext, conn: Connection, id: string): Punch | undefined {
  const punch = ctx.punches.get(id)
  if (punch === undefined || punch.target !== conn) {
    conn.sendError('ERR_NO_SUCH_PUNCH', 'no pending punch with this id was challenged on this connection', id)
    return undefined
  }
  return punch
}

function refreshBoth(ctx: CommandContext, p: Punch): void {
  ctx.refreshIdle(p.candidate)
  ctx.refreshIdle(p.target)
}

/**
 * `CLEAR <node-id> <clear-token>`: forgets that registration, whichever connection made it (open or
 * gone), if it was made with this token. The comparison takes the same time for every wrong token.
 */
function clearByToken(ctx: CommandContext, nodeId: string, token: string): boolean {
  const rec = ctx.nodes.get(nodeId)
  if (rec?.clearToken === undefined) return false
  const a = Buffer.from(rec.clearToken, 'latin1')
  const b = Buffer.from(token, 'latin1')
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false
  const owner = rec.conn
  if (!ctx.nodes.remove(rec)) return false
  detach(ctx, rec, undefined)
  rec.conn = undefined
  if (owner !== undefined) endChallenges(ctx, owner, nodeId)
  return true
}

/** The pending challenges of `nodeId` on its connection end for their candidates (the node left). */
function endChallenges(ctx: CommandContext, conn: Connection, nodeId?: string): void {
  if (conn.punches === undefined) return
  for (const p of [...conn.punches]) {
    if (p.target !== conn || (nodeId !== undefined && p.targetNodeId !== nodeId)) continue
    ctx.punches.delete(p)
    refreshBoth(ctx, p)
    p.candidate.sendError('ERR_PEER_GONE', 'the target cleared its registration', p.id)
  }
}

/** CLEAR: forget the nodes this connection registered; its pending challenges end for their candidates. */
export function clearNodes(ctx: CommandContext, conn: Connection): void {
  for (const nodeId of [...(conn.nodes ?? [])]) {
    const rec = ctx.nodes.get(nodeId)
    if (rec !== undefined && rec.conn === conn && ctx.nodes.remove(rec)) detach(ctx, rec, undefined)
  }
  conn.nodes = undefined
  endChallenges(ctx, conn)
}
