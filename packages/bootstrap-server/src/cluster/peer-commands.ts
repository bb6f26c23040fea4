/**
 * What an instance does with the punch and registration messages other instances send it (the target's
 * side of a punch whose candidate is connected elsewhere, and registrations cleared or replaced
 * elsewhere). The same handlers as for local clients run; a `RemoteEnd` stands in for the candidate.
 */
import { punchAllowed } from '../commands.js'
import type { CommandContext } from '../context.js'
import { candidate, endChallenges, releaseHeld } from '../punch-commands.js'
import { detach } from '../registration.js'
import type { PeerMessage } from '../store/cluster-store.js'
import { RemoteEnd } from './remote-end.js'

type Msg<K extends PeerMessage['op']> = Extract<PeerMessage, { op: K }>

/** A `CANDIDATE` forwarded by the candidate's instance: challenge the target here; reply over there. */
export function remoteCandidate(
  ctx: CommandContext,
  msg: Msg<'candidate'>,
  publish: (to: string, m: PeerMessage) => void,
): void {
  const end = new RemoteEnd(msg.ip, msg.rtt, msg.measuring, msg.req, (m) => publish(msg.from, m))
  if (msg.inbound !== undefined) ctx.punches.setInbound(end, msg.inbound)
  if (punchAllowed(ctx, end, msg.target, msg.node)) {
    candidate(ctx, end, msg.target, msg.node, msg.ports, msg.proven)
  }
}

/** The remote candidate's round trip was measured: a FIGHT held for it goes out now. */
export function remoteRtt(ctx: CommandContext, msg: Msg<'rtt'>): void {
  const p = ctx.punches.get(msg.punch)
  if (p === undefined || p.candidate.remote !== true) return
  p.candidate.rtt = Math.max(msg.rtt, 0.001)
  p.candidate.pingToken = undefined
  releaseHeld(ctx, p.candidate)
}

/** The remote candidate disconnected before FIGHT. */
export function remoteGone(ctx: CommandContext, msg: Msg<'gone'>): void {
  const p = ctx.punches.get(msg.punch)
  if (p === undefined || !(p.candidate instanceof RemoteEnd)) return
  p.candidate.open = false
  ctx.punches.delete(p)
  ctx.refreshIdle(p.target)
  p.target.sendError('ERR_PEER_GONE', 'the candidate disconnected before FIGHT', p.id)
}

/** A registration held here was cleared (with its token) or registered again at another instance. */
export function remoteDrop(ctx: CommandContext, msg: Msg<'drop'>): void {
  const rec = ctx.nodes.get(msg.node)
  if (rec === undefined || !ctx.nodes.remove(rec)) return
  const owner = rec.conn
  detach(ctx, rec, undefined)
  rec.conn = undefined
  if (owner === undefined) return
  endChallenges(ctx, owner, msg.node)
  if (msg.replaced && rec.nodeType === 'simultaneous' && owner.isOpen) {
    owner.sendError('ERR_REPLACED', `node ${msg.node} was registered again on another connection`)
  }
}
