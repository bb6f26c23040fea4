/**
 * `pickMerged` (cluster/pick.ts): how a `BOOTSTRAP` reply is drawn from this instance's own nodes and
 * the pool of other instances' entries, without Redis.
 */
import { describe, expect, it } from 'vitest'
import { pickMerged } from '../src/cluster/pick.js'
import type { SharedNode } from '../src/store/cluster-store.js'
import { nodeId } from './helpers.js'

function entry(n: number, over: Partial<SharedNode> = {}): SharedNode {
  return {
    nodeId: nodeId(n),
    nodeType: 'passive',
    ip: `10.0.0.${n % 250}`,
    port: 4000,
    maxInbound: 1,
    instance: 'ab'.repeat(8),
    unproven: true,
    tokenHash: '',
    ipKey: `10.0.0.${n % 250}`,
    ...over,
  }
}

const opts = {
  localTotal: 0,
  count: 10,
  exclude: undefined,
  allowLoopback: false,
  simultaneous: false,
  heldHere: () => false,
}

describe('pickMerged', () => {
  it('never lists the asker, loopback entries, unlisted types or ids held here now; no duplicates', () => {
    const remote = [
      entry(1),
      entry(2, { ip: '127.0.0.1' }),
      entry(3, { nodeType: 'simultaneous' }),
      entry(4),
      entry(5),
    ]
    const local = [entry(5, { instance: 'cd'.repeat(8) })]
    const out = pickMerged({ remote, localShare: undefined }, local, {
      ...opts,
      localTotal: 1,
      exclude: [nodeId(4)],
      heldHere: (id) => id === nodeId(5),
    })
    expect(out.map((n) => n.nodeId).sort()).toEqual([nodeId(1), nodeId(5)])
    expect((out.find((n) => n.nodeId === nodeId(5)) as SharedNode | undefined)?.instance).toBe('cd'.repeat(8))
  })

  it('fills from the other side when one runs out, and stops at count', () => {
    const remote = Array.from({ length: 30 }, (_, i) => entry(i + 1))
    const local = [entry(100), entry(101)]
    // The whole listing is local by the estimate: still 10, all the local ones first.
    const out = pickMerged({ remote, localShare: 1 }, local, opts)
    expect(out).toHaveLength(10)
    expect(out.slice(0, 2).map((n) => n.nodeId)).toEqual([nodeId(100), nodeId(101)])
    expect(new Set(out.map((n) => n.nodeId)).size).toBe(10)
  })

  it('draws each side in proportion to its share of the listing', () => {
    const local = Array.from({ length: 100 }, (_, i) => entry(1000 + i))
    let fromLocal = 0
    const rounds = 2_000
    for (let r = 0; r < rounds; r++) {
      const remote = Array.from({ length: 300 }, (_, i) => entry(i + 1))
      // Not a full sample: weighed by the counts, 100 local of 400.
      const out = pickMerged({ remote, localShare: undefined }, local, { ...opts, localTotal: 100 })
      fromLocal += out.filter((n) => n.nodeId >= nodeId(1000)).length
    }
    // 20,000 draws at p = 0.25: the mean is 5,000, its standard deviation ~61; 10 of them is no flake.
    expect(Math.abs(fromLocal - 5_000)).toBeLessThan(610)
  })
})
