/**
 * Keeping the tables clean: what happens when a connection ends and when entries time out. Nothing may
 * be left behind: a vanished side of a punch is reported to the other side and the punch is deleted.
 */
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import { detach } from './registration.js'

/** A connection closed: its simultaneous nodes and its punches go; passive nodes stay (without it). */
export function forgetConnection(ctx: CommandContext, conn: Connection): void {
  for (const nodeId of conn.nodes ?? []) {
    const rec = ctx.nodes.get(nodeId)
    if (rec?.conn !== conn) continue
    if (rec.nodeType === 'simultaneous' && ctx.nodes.remove(rec)) ctx.cluster?.unregister(rec)
    rec.conn = undefined
  }
  conn.nodes = undefined
  conn.simultaneous = 0
  for (const p of ctx.punches.of(conn)) {
    ctx.punches.delete(p)
    const other = p.candidate === conn ? p.target : p.candidate
    ctx.refreshIdle(other)
    const who = p.candidate === conn ? 'candidate' : 'target'
    other.sendError('ERR_PEER_GONE', `the ${who} disconnected before FIGHT`, p.id)
  }
  ctx.cluster?.connectionClosed(conn)
}

/**
 * Ends punches past the challenge timeout and registrations past the node lifetime, as of `now` (the
 * server's clock): a punch created at `t` expires once `now >= t + challengeTimeoutMs`.
 */
export function expireTables(ctx: CommandContext, now: number): void {
  ctx.punches.expire(now - ctx.opts.challengeTimeoutMs, (p) => {
    ctx.refreshIdle(p.candidate)
    ctx.refreshIdle(p.target)
    p.candidate.sendError('ERR_PUNCH_TIMEOUT', 'the target did not answer the challenge in time', p.id)
    p.target.sendError('ERR_PUNCH_TIMEOUT', 'no ACCEPT or REJECT in time', p.id)
  })
  ctx.nodes.expire(now - ctx.opts.nodeLifetimeMs, (rec) => {
    const conn = rec.conn
    ctx.cluster?.unregister(rec)
    detach(ctx, rec, undefined)
    rec.conn = undefined
    if (rec.nodeType === 'simultaneous')
      conn?.close('ERR_NODE_EXPIRED', 'registration expired; register again')
  })
}
