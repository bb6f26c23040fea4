/**
 * The punch commands: `CANDIDATE` → `CHALLENGE` to the target → `ACCEPT` (or `REJECT`) → `FIGHT` to
 * both sides, timed from the round trips the server measured (fight-delay.ts). Each handler sends
 * exactly one reply; the other side of a punch hears of it as PROTOCOL.md says.
 */
import { formatServerMessage } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import { FIGHT_HOLD_MS, fightDelays, fightOrder } from './fight-delay.js'
import type { Punch, PunchEnd } from './punch-table.js'
import { unsignedRefusal } from './unsigned-policy.js'

export function candidate(
  ctx: CommandContext,
  conn: PunchEnd,
  targetNodeId: string,
  nodeId: string,
  ports: readonly number[],
  proven: boolean,
): void {
  // The target is challenged to punch to `nodeId`: only its owner may be named (issue 17).
  // (unsignedRefusal reads only the asker's ip, which a remote candidate has too.)
  const refusal = proven ? undefined : unsignedRefusal(ctx, conn as Connection, nodeId)
  if (refusal !== undefined) {
    conn.sendError('ERR_SIGNATURE_REQUIRED', `${refusal}; no punch started`)
    return
  }
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

/** `ACCEPT <punch-id> TCP <ports>` from the challenged target. */
export function accept(
  ctx: CommandContext,
  conn: Connection,
  punchId: string,
  ports: readonly number[],
): void {
  const punch = ownPunch(ctx, conn, punchId)
  if (punch === undefined) return
  if (punch.held !== undefined) {
    conn.sendError('ERR_NO_SUCH_PUNCH', 'this punch was accepted already', punch.id)
    return
  }
  refreshBoth(ctx, punch)
  // A side whose first PONG is still out would get a guessed RTT, and the two SYNs would leave up
  // to half that guess apart (the candidate's connection is new for every punch): wait for it.
  if (awaitingRtt(punch)) {
    ctx.punches.hold(punch, ports, FIGHT_HOLD_MS, () => fight(ctx, punch, ports))
    return
  }
  fight(ctx, punch, ports)
}

/** `REJECT <punch-id> <reason>` from the challenged target: the candidate hears why. */
export function reject(ctx: CommandContext, conn: Connection, punchId: string, reason: string): void {
  const punch = ownPunch(ctx, conn, punchId)
  if (punch === undefined) return
  ctx.punches.delete(punch)
  refreshBoth(ctx, punch)
  conn.send(formatServerMessage({ type: 'OK', what: 'REJECT' }))
  punch.candidate.sendError('ERR_PUNCH_REJECTED', `rejected by the target: ${reason}`, punch.id)
}

/** Challenges for `nodeId` pending on an older connection follow it to `to` (pyp2p's RECONNECT). */
export function movePunches(ctx: CommandContext, from: Connection, to: Connection, nodeId: string): void {
  for (const p of ctx.punches.of(from)) {
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

/** The pending challenges of `nodeId` (or all) on its connection end for their candidates (the node left). */
export function endChallenges(ctx: CommandContext, conn: Connection, nodeId?: string): void {
  for (const p of ctx.punches.of(conn)) {
    if (p.target !== conn || (nodeId !== undefined && p.targetNodeId !== nodeId)) continue
    ctx.punches.delete(p)
    refreshBoth(ctx, p)
    p.candidate.sendError('ERR_PEER_GONE', 'the target cleared its registration', p.id)
  }
}

/** A PONG arrived on `conn`: the held punches it was the last measurement of get their FIGHT. */
export function releaseHeld(ctx: CommandContext, conn: PunchEnd): void {
  for (const p of ctx.punches.of(conn)) {
    if (p.held !== undefined && !awaitingRtt(p)) fight(ctx, p, p.held.ports)
  }
}

export function refreshBoth(ctx: CommandContext, p: Punch): void {
  ctx.refreshIdle(p.candidate)
  ctx.refreshIdle(p.target)
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

/** True while a side of the punch has never been measured and its PING is still out. */
function awaitingRtt(p: Punch): boolean {
  const waiting = (c: PunchEnd): boolean => c.rtt === 0 && c.pingToken !== undefined && c.isOpen
  return waiting(p.candidate) || waiting(p.target)
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
