/**
 * The rule for commands without a proof of ownership (issue 17), shared by registrations and punches:
 * they need the `allowUnsigned` option, and never act as an id held with proof or registered from
 * another address. Records remember whether their registration came with proof.
 */
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import type { NodeRecord } from './node-table.js'

/** A node record as registration.ts makes it (node-table.ts stores it as a `NodeRecord`): whether a proof came with its registration. */
export interface OwnedRecord extends NodeRecord {
  readonly unproven: boolean
}

/** True when the record was registered without a proof (a v1 client on an `allowUnsigned` server). */
export function isUnproven(rec: NodeRecord): boolean {
  return (rec as Partial<OwnedRecord>).unproven === true
}

/**
 * Why an unsigned command may not act as `nodeId` from `conn` (`undefined`: it may). Unsigned commands
 * need `allowUnsigned`, and may not touch an id held with proof, nor (`by: 'address'`: READY,
 * CANDIDATE) one registered from another address; `CLEAR <id> <token>` relies on the token instead.
 */
export function unsignedRefusal(
  ctx: CommandContext,
  conn: Connection,
  nodeId: string,
  by: 'address' | 'token' = 'address',
): string | undefined {
  if (!ctx.opts.allowUnsigned) {
    return "this server acts on node ids only with proof: sign the command with the node's key (SIG <public-key> <signature>, PROTOCOL.md)"
  }
  const rec = ctx.nodes.get(nodeId)
  if (rec === undefined) return undefined
  if (!isUnproven(rec)) return `node ${nodeId} is held with proof; only a signed command can act as it`
  // An unproven registration is held by its address (v1), or by its clear token for `CLEAR`.
  if (by === 'address' && rec.ip !== conn.ip)
    return `node ${nodeId} is registered from another address; only a signed command can replace it`
  return undefined
}
