import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Connection } from '../src/connection.js'
import { FIGHT_LEAD_MS, fightDelays, fightOrder } from '../src/fight-delay.js'
import { type NodeRecord, NodeTable } from '../src/node-table.js'
import { nodeId } from './helpers.js'

const conn = {} as Connection

function rec(i: number, ip = '198.51.100.1', registeredAt = 0): NodeRecord {
  return {
    nodeId: nodeId(i),
    nodeType: 'passive',
    ip,
    port: 1000 + i,
    maxInbound: 1,
    registeredAt,
    clearToken: undefined,
    conn,
    slot: -1,
  }
}

describe('fightDelays', () => {
  it('makes both sides fire at the same moment after the server sends FIGHT', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        (a, b) => {
          const d = fightDelays(a, b, 10, 100)
          // Fire time after the server sent = one-way time + delay; equal up to rounding.
          expect(Math.abs(a / 2 + d.candidateMs - (b / 2 + d.targetMs))).toBeLessThanOrEqual(1)
          expect(Math.min(d.candidateMs, d.targetMs)).toBe(10)
        },
      ),
    )
  })

  it("gives an unmeasured side the measured side's RTT (not a guess) and clamps to the limit", () => {
    expect(fightDelays(0, 0, 5, 100)).toEqual({ candidateMs: 5, targetMs: 5 })
    // Before: the unmeasured candidate got the 100 ms default and the target fired 40 ms late.
    expect(fightDelays(0, 20, 0, 100)).toEqual({ candidateMs: 0, targetMs: 0 })
    expect(fightDelays(30, 0, 2, 100)).toEqual({ candidateMs: 2, targetMs: 2 })
    expect(fightDelays(1, 1_000_000, 0, 100).candidateMs).toBe(30_000)
  })

  it('lets the side behind a resetting router fire FIGHT_LEAD_MS first, and only that', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        fc.double({ min: 0.01, max: 5000, noNaN: true }),
        fc.constantFrom('candidate' as const, 'target' as const),
        fc.integer({ min: 0, max: 1000 }),
        (a, b, first, leadMs) => {
          const d = fightDelays(a, b, 10, 100, { first, leadMs })
          const candidateFires = a / 2 + d.candidateMs
          const targetFires = b / 2 + d.targetMs
          const lead = first === 'candidate' ? targetFires - candidateFires : candidateFires - targetFires
          expect(Math.abs(lead - leadMs)).toBeLessThanOrEqual(1)
          // The lead is taken from the first side's delay, not added to the other's (issue 12): the
          // later side fires at its plain time unless the lead exceeds what the first side can give.
          const plain = fightDelays(a, b, 10, 100)
          const later =
            first === 'candidate' ? d.targetMs - plain.targetMs : d.candidateMs - plain.candidateMs
          // What the first side's plain delay (margin 10, unrounded) cannot give of the lead.
          const firstPlainMs = 10 + (Math.max(a, b) - (first === 'candidate' ? a : b)) / 2
          expect(Math.abs(later - Math.max(0, leadMs - firstPlainMs))).toBeLessThanOrEqual(1)
          expect(Math.min(d.candidateMs, d.targetMs)).toBeGreaterThanOrEqual(0)
        },
      ),
    )
    expect(fightDelays(4, 4, 10, 100, { first: 'target' })).toEqual({ candidateMs: 10, targetMs: 0 })
    expect(fightDelays(4, 4, 10, 100, { first: 'candidate' })).toEqual({ candidateMs: 0, targetMs: 10 })
    // A margin below the lead: the first side fires on receipt, the other waits the rest of the lead.
    expect(fightDelays(4, 4, 3, 100, { first: 'target' })).toEqual({
      candidateMs: FIGHT_LEAD_MS,
      targetMs: 0,
    })
  })
})

describe('fightOrder', () => {
  it('puts the RST side first only against a side that declared DROP', () => {
    expect(fightOrder('rst', 'drop')).toBe('candidate')
    expect(fightOrder('drop', 'rst')).toBe('target')
    // Undeclared (older client, or a host without NAT that listens): a lead would only add delay.
    expect(fightOrder('rst', undefined)).toBeUndefined()
    expect(fightOrder(undefined, 'rst')).toBeUndefined()
    // Both resetting: only SYNs crossing in flight meet, so neither waits for the other.
    expect(fightOrder('rst', 'rst')).toBeUndefined()
    expect(fightOrder('drop', 'drop')).toBeUndefined()
    expect(fightOrder(undefined, undefined)).toBeUndefined()
  })
})

describe('NodeTable', () => {
  it('samples distinct nodes, never excluded ones, from small and large tables', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 100 }), (size, n) => {
        const t = new NodeTable(1000, 1000)
        for (let i = 1; i <= size; i++) t.add(rec(i))
        const exclude = [nodeId(1), nodeId(2)]
        const got = t.sample(n, exclude, false)
        const ids = got.map((r) => r.nodeId)
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.some((id) => exclude.includes(id))).toBe(false)
        expect(ids.length).toBeLessThanOrEqual(n)
        // Small tables are covered exhaustively: as many as qualify, up to n.
        if (size <= n * 2) expect(ids.length).toBe(Math.min(n, Math.max(0, size - 2)))
      }),
      { numRuns: 200 },
    )
  })

  it('keeps per-IP and total bounds through add, replace, remove and expire', () => {
    const t = new NodeTable(3, 2)
    expect(t.add(rec(1, '10.0.0.1', 1)).ok).toBe(true)
    expect(t.add(rec(2, '10.0.0.1', 2)).ok).toBe(true)
    expect(t.add(rec(3, '10.0.0.1', 3))).toMatchObject({ ok: false, reason: 'per-ip', key: '10.0.0.1' })
    expect(t.add(rec(3, '10.0.0.2', 3)).ok).toBe(true)
    expect(t.add(rec(4, '10.0.0.3', 4))).toMatchObject({ ok: false, reason: 'total' })
    // Replacing moves the node to the end of the expiry order.
    const again = rec(1, '10.0.0.1', 10)
    expect(t.add(again)).toMatchObject({ ok: true, replaced: { nodeId: nodeId(1) } })
    const expired: string[] = []
    t.expire(5, (r) => expired.push(r.nodeId))
    expect(expired).toEqual([nodeId(2), nodeId(3)])
    expect(t.size).toBe(1)
    expect(t.sample(5, undefined, true).map((r) => r.nodeId)).toEqual([nodeId(1)])
    expect(t.remove(again)).toBe(true)
    expect(t.remove(again)).toBe(false)
    expect(t.passiveCount).toBe(0)
  })

  it('never hands out loopback nodes unless allowed', () => {
    const t = new NodeTable(10, 10)
    t.add(rec(1, '127.0.0.1'))
    t.add(rec(2, '::1'))
    t.add(rec(3, '203.0.113.5'))
    expect(t.sample(10, undefined, false).map((r) => r.ip)).toEqual(['203.0.113.5'])
    expect(t.sample(10, undefined, true)).toHaveLength(3)
  })
})
