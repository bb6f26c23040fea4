/** `BOOTSTRAP` over the network: which of the entries Redis sampled go into the `NODES` reply. */
import { isLoopback } from '../node-table.js'
import type { SharedNode } from '../store/cluster-store.js'

/** Up to `count` entries in random order, never the asker's own ids nor (unless allowed) loopback ones. */
export function pick(
  shared: SharedNode[],
  count: number,
  exclude: readonly string[] | undefined,
  allowLoopback: boolean,
  simultaneous: boolean,
): SharedNode[] {
  for (let i = shared.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[shared[i], shared[j]] = [shared[j] as SharedNode, shared[i] as SharedNode]
  }
  const out: SharedNode[] = []
  for (const n of shared) {
    if (out.length === count) break
    if (exclude?.includes(n.nodeId) === true || (!allowLoopback && isLoopback(n.ip))) continue
    if (!simultaneous && n.nodeType !== 'passive') continue
    out.push(n)
  }
  return out
}
