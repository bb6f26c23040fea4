/**
 * Which connection leaves when the table is full and a newcomer from an under-represented network
 * prefix is let in (@pyp2p/limits' `FairTable` picks the prefix holding the most; this picks inside it).
 * In the spirit of Bitcoin Core's inbound eviction, what costs the network least goes first:
 *
 * 1. connections that hold nothing: no registration, no punch, no relay session (so also every one
 *    still in its handshake) — the one silent longest first;
 * 2. connections that registered only passive nodes (a passive registration outlives its connection,
 *    so closing it loses nothing) — the one silent longest first;
 * 3. connections something waits on: a simultaneous node, a relay session, a punch — the youngest
 *    first, so long-lived nodes are the last to go (Bitcoin Core protects its longest-connected peers).
 *
 * Connections already closing are never picked (they have left the table).
 */
import type { NetworkKeys } from '@pyp2p/limits'

/** What the policy reads of a connection (a subset of `Connection`, so tests can pass plain objects). */
export interface EvictionCandidate {
  readonly nodes: readonly string[] | undefined
  readonly simultaneous: number
  readonly punchCount: number
  readonly held: boolean
  readonly closing: boolean
  readonly lastSeen: number
}

/** The victim among `members` (oldest first), or undefined if there is none to take. */
export function pickEvictionVictim<T extends EvictionCandidate>(members: ReadonlySet<T>): T | undefined {
  let bare: T | undefined
  let passive: T | undefined
  let youngest: T | undefined
  for (const c of members) {
    if (c.closing) continue
    if (c.simultaneous > 0 || c.punchCount > 0 || c.held) youngest = c
    else if (c.nodes === undefined || c.nodes.length === 0) {
      if (bare === undefined || c.lastSeen < bare.lastSeen) bare = c
    } else if (passive === undefined || c.lastSeen < passive.lastSeen) passive = c
  }
  return bare ?? passive ?? youngest
}

/** The text of an `ERROR ERR_TOO_MANY_CONNECTIONS` refusal: which limit, for which IP or prefix. */
export function refusalText(refusedBy: 'per-ip' | 'per-prefix' | 'full', key: string, limit: number): string {
  if (refusedBy === 'per-ip') return `ip=${key} limit=${limit} too many connections from this address`
  if (refusedBy === 'per-prefix') {
    return `prefix=${key} limit=${limit} too many connections from this network; retry later`
  }
  return `prefix=${key} share=${limit} the server is full and this network holds its fair share; retry later`
}

/** The text of the `ERROR ERR_EVICTED` a victim gets. */
export function evictionText(victim: NetworkKeys, newcomer: NetworkKeys): string {
  return `prefix=${victim.prefix} the server is full and this network holds the most connections: closed to admit one from ${newcomer.prefix}; retry later`
}
