import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifyNat, isPredictable, type NatSample, PunchError, predictPorts } from '../src/index.js'

const fresh = (pairs: Array<[number, number]>): NatSample[] =>
  pairs.map(([localPort, externalPort]) => ({ localPort, externalPort }))

describe('classifyNat', () => {
  it('preserving: every new mapping keeps its local port', () => {
    const s = fresh([
      [40001, 40001],
      [40532, 40532],
      [41007, 41007],
      [39000, 39000],
      [45000, 45000],
    ])
    expect(classifyNat(s)).toEqual({ type: 'preserving', samples: s })
  })

  it('preserving tolerates one collision in five (pyp2p port_collisions = 1)', () => {
    const s = fresh([
      [40001, 40001],
      [40532, 1025],
      [41007, 41007],
      [39000, 39000],
      [45000, 45000],
    ])
    expect(classifyNat(s).type).toBe('preserving')
  })

  it('two collisions in five are not preserving', () => {
    const s = fresh([
      [40001, 40001],
      [40532, 1025],
      [41007, 7000],
      [39000, 39000],
      [45000, 45000],
    ])
    expect(classifyNat(s).type).toBe('random')
  })

  it('preserving tolerates the one collision on a reconnection (another host took the port meanwhile)', () => {
    // Two hosts behind one router detecting at once: a port one holds can cost the other's reconnection
    // its port. That one sample made the verdict `random` (an active node, never punched to).
    const s = fresh([
      [40001, 40001],
      [40532, 40532],
      [41007, 41007],
      [39000, 39000],
      [45000, 45000],
      [40001, 40001],
      [40532, 1025],
    ])
    expect(classifyNat(s).type).toBe('preserving')
  })

  it('a collided port reconnected into the same collision is still one collision: preserving', () => {
    const s = fresh([
      [40001, 40001],
      [40532, 7000],
      [41007, 41007],
      [39000, 39000],
      [45000, 45000],
      [40001, 40001],
      [40532, 7000],
    ])
    expect(classifyNat(s).type).toBe('preserving')
  })

  it('a collision on a new mapping and one on a reconnection are two: not preserving', () => {
    const s = fresh([
      [40001, 40001],
      [40532, 7000],
      [41007, 41007],
      [39000, 39000],
      [45000, 45000],
      [40001, 1025],
      [40532, 7000],
    ])
    expect(classifyNat(s).type).not.toBe('preserving')
  })

  it('reuse: new ports are unrelated, but a local port gets its external port again', () => {
    const s = fresh([
      [40001, 5123],
      [40532, 61000],
      [41007, 2222],
      [39000, 33333],
      [45000, 17],
      [40001, 5123],
      [40532, 61000],
    ])
    expect(classifyNat(s).type).toBe('reuse')
  })

  it('delta: consecutive mappings advance by a constant step, even with one port taken in between', () => {
    const s = fresh([
      [40001, 20000],
      [40532, 20002],
      [41007, 20004],
      [39000, 20006],
      [45000, 20008],
    ])
    expect(classifyNat(s)).toEqual({ type: 'delta', delta: 2, samples: s })
    const gap = fresh([
      [40001, 20000],
      [40532, 20001],
      [41007, 30000],
      [39000, 20003],
      [45000, 20004],
    ])
    expect(classifyNat(gap)).toMatchObject({ type: 'delta', delta: 1 })
  })

  it('delta wraps around the port range and may be negative', () => {
    const up = fresh([
      [1, 65534],
      [2, 65535],
      [3, 0],
      [4, 1],
      [5, 2],
    ])
    expect(classifyNat(up)).toMatchObject({ type: 'delta', delta: 1 })
    const down = fresh([
      [1, 30000],
      [2, 29990],
      [3, 29980],
      [4, 29970],
      [5, 29960],
    ])
    expect(classifyNat(down)).toMatchObject({ type: 'delta', delta: -10 })
  })

  it('a sequential NAT that does not reuse is delta, not reuse (reconnects got new ports)', () => {
    const s = fresh([
      [40001, 20000],
      [40532, 20001],
      [41007, 20002],
      [39000, 20003],
      [45000, 20004],
      [40001, 20005],
      [40532, 20006],
    ])
    expect(classifyNat(s)).toMatchObject({ type: 'delta', delta: 1 })
  })

  it('random: nothing predictable', () => {
    const s = fresh([
      [40001, 5123],
      [40532, 61000],
      [41007, 2222],
      [39000, 33333],
      [45000, 17],
      [40001, 9999],
      [40532, 12],
    ])
    const nat = classifyNat(s)
    expect(nat.type).toBe('random')
    expect(isPredictable(nat)).toBe(false)
  })

  it('no samples is random (nothing shown to be predictable)', () => {
    expect(classifyNat([]).type).toBe('random')
  })

  const port = fc.integer({ min: 1, max: 65535 })

  it('property: external == local on every sample is always preserving', () => {
    fc.assert(
      fc.property(fc.uniqueArray(port, { minLength: 1, maxLength: 12 }), (ports) => {
        expect(classifyNat(ports.map((p) => ({ localPort: p, externalPort: p }))).type).toBe('preserving')
      }),
    )
  })

  it('property: a constant non-zero step over >= 3 new mappings is delta with that step', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 65535 }),
        fc.integer({ min: -50, max: 50 }).filter((d) => d !== 0),
        fc.integer({ min: 3, max: 10 }),
        (base, step, n) => {
          // local ports far from the external ones, so the samples are not also "preserving"
          const s = Array.from({ length: n }, (_, i) => ({
            localPort: 1 + ((base + 30000 + 7 * i) % 65535),
            externalPort: (((base + step * i) % 65536) + 65536) % 65536,
          }))
          fc.pre(s.every((x) => x.localPort !== x.externalPort))
          expect(classifyNat(s)).toMatchObject({ type: 'delta', delta: step })
        },
      ),
    )
  })

  it('property: any samples give one of the four verdicts and keep the samples', () => {
    const sample = fc.record({ localPort: port, externalPort: fc.integer({ min: 0, max: 65535 }) })
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 20 }), fc.integer({ min: 0, max: 3 }), (s, collisions) => {
        const nat = classifyNat(s, { collisions })
        expect(['preserving', 'delta', 'reuse', 'random']).toContain(nat.type)
        expect(nat.samples).toBe(s)
        if (nat.type === 'delta') expect(nat.delta).not.toBe(0)
      }),
    )
  })
})

describe('predictPorts', () => {
  it('preserving and reuse predict the observed mapping', () => {
    expect(predictPorts({ type: 'preserving', samples: [] }, 40001)).toEqual([40001])
    expect(predictPorts({ type: 'reuse', samples: [] }, 5123)).toEqual([5123])
  })

  it('delta predicts the next mappings', () => {
    expect(predictPorts({ type: 'delta', delta: 1, samples: [] }, 20005)).toEqual([20006, 20007, 20008])
    expect(predictPorts({ type: 'delta', delta: 2, samples: [] }, 20005, 1)).toEqual([20007])
  })

  it('random throws ERR_NAT_UNPREDICTABLE at the detection stage', () => {
    const err = (() => {
      try {
        predictPorts({ type: 'random', samples: [] }, 5000)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(PunchError)
    expect(err).toMatchObject({ code: 'ERR_NAT_UNPREDICTABLE', stage: 'detection' })
  })

  it('property: predictions are always valid ports', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: -1000, max: 1000 }).filter((d) => d !== 0),
        fc.integer({ min: 1, max: 8 }),
        (observed, delta, count) => {
          const ports = predictPorts({ type: 'delta', delta, samples: [] }, observed, count)
          expect(ports).toHaveLength(count)
          for (const p of ports) expect(p >= 1 && p <= 65535 && Number.isInteger(p)).toBe(true)
        },
      ),
    )
  })
})
