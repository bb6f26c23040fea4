/**
 * The accepting side of UnlConnector: an accepted (or punched-to-us) connection through the inbound
 * upgrade (upgrade.ts), asking the node's `admit` after the hello. A connection whose hello carries the
 * nonce of one of our reverse-connect requests is that `connect()`'s answer: it is admitted as such
 * (our outbound slot) and handed to the waiting `connect()` instead of the caller.
 */
import type { Socket } from 'node:net'
import type { LineSocket } from '@pyp2p/framing'
import type { IncomingConnection, UnlConnectorOptions } from './connector-options.js'
import type { ConnectMethod } from './errors.js'
import { type UpgradeOptions, upgradeInbound } from './upgrade.js'

/** A `connect()` waiting for the peer to dial in (reverse connect), by nonce. */
export interface PendingReverse {
  nodeId: string
  resolve(con: LineSocket): void
  /**
   * Our own node refused the peer's answer at admission (`ERR_NOT_ADMITTED`: a duplicate of the
   * connection both keep, a full slot...): the peer acts on a nonce once, so nothing else will come.
   */
  refuse?(err: Error): void
}

export interface AcceptOptions {
  upgrade: UpgradeOptions
  signal: AbortSignal
  method: ConnectMethod
  expectedNodeId: string | undefined
  pending: Map<string, PendingReverse>
  admit: UnlConnectorOptions['admit']
}

/**
 * Resolves with the connection, or undefined when it answered a reverse request; rejects as
 * `upgradeInbound`. An answer our node refuses at admission ends the `connect()` waiting for it at
 * once, with that refusal (issue 18: it waited for its whole deadline).
 */
export async function acceptIncoming(
  con: Socket | LineSocket,
  o: AcceptOptions,
): Promise<IncomingConnection | undefined> {
  const { method } = o
  let answer = false
  let nonce = ''
  let upgraded: Awaited<ReturnType<typeof upgradeInbound>>
  try {
    upgraded = await upgradeInbound(con, {
      ...o.upgrade,
      signal: o.signal,
      ...(o.expectedNodeId !== undefined && { expectedNodeId: o.expectedNodeId }),
      admit: (r) => {
        nonce = r.hello.nonce
        answer = o.pending.get(nonce)?.nodeId === r.nodeId
        return o.admit?.({ connection: r.connection, nodeId: r.nodeId, secure: r.secure, method, answer })
      },
    })
  } catch (err) {
    // Past admission the upgrade fails only by the refusal: the answer it was is void.
    const pending = answer ? o.pending.get(nonce) : undefined
    if (pending?.refuse !== undefined) {
      o.pending.delete(nonce)
      pending.refuse(err instanceof Error ? err : new Error(String(err)))
    }
    throw err
  }
  const { connection, hello, nodeId, secure } = upgraded
  if (!answer) return { connection, method, nodeId, secure }
  const pending = o.pending.get(hello.nonce)
  o.pending.delete(hello.nonce)
  if (pending?.nodeId === nodeId) pending.resolve(connection)
  else connection.close() // the connect() it answers gave up meanwhile
  return undefined
}
