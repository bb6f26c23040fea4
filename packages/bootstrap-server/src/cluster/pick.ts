/** `BOOTSTRAP` over the network: which entries go into the `NODES` reply. */
import { isLoopback, type NodeRecord } from '../node-table.js'
import type { SharedNode } from '../store/cluster-store.js'
import type { Listing } from './listing-cache.js'

/** What a `NODES` line is made of (commands.ts `nodesLine`). */
export type NodeRecordLike = NodeRecord | SharedNode

export interface MergeOptions {
  /** This instance's listed nodes now (weighs the pool when its sample was not full). */
  readonly localTotal: number
  readonly count: number
  readonly exclude: readonly string[] | undefined
  readonly allowLoopback: boolean
  readonly simultaneous: boolean
  /** Whether `nodeId` is in this instance's tables now. */
  readonly heldHere: (nodeId: string) => boolean
}

/**
 * `BOOTSTRAP` from the listing cache: up to `count` entries, each slot drawn from this instance's own
 * (`local`, already sampled, filtered and in random order) or from the pool of other instances'
 * entries, in proportion to their estimated share of the whole listing. The pool is reordered in place
 * (a partial shuffle: its order means nothing).
 */
export function pickMerged(
  listing: Listing,
  local: readonly NodeRecordLike[],
  o: MergeOptions,
): NodeRecordLike[] {
  const { remote, localShare } = listing
  const { localTotal, count, exclude, allowLoopback, simultaneous, heldHere } = o
  const share = localShare ?? (localTotal === 0 ? 0 : localTotal / (localTotal + remote.length))
  const out: NodeRecordLike[] = []
  let li = 0
  let ri = 0
  const nextRemote = (): SharedNode | undefined => {
    while (ri < remote.length) {
      const j = ri + Math.floor(Math.random() * (remote.length - ri))
      const n = remote[j] as SharedNode
      remote[j] = remote[ri] as SharedNode
      remote[ri++] = n
      if (exclude?.includes(n.nodeId) === true || (!allowLoopback && isLoopback(n.ip))) continue
      // (Registered here since the pool was read: the local entry is the one listed.)
      if ((!simultaneous && n.nodeType !== 'passive') || heldHere(n.nodeId)) continue
      return n
    }
    return undefined
  }
  while (out.length < count) {
    const fromLocal = li < local.length && (ri >= remote.length || Math.random() < share)
    const n = fromLocal ? local[li++] : nextRemote()
    if (n === undefined) {
      if (li >= local.length) break
      continue
    }
    out.push(n)
  }
  return out
}
