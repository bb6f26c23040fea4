/**
 * NAT behaviour from observed port mappings: a pure function, so it is tested without a network.
 * The verdicts are pyp2p's (`docs/original.md`, "NAT detection"): `preserving`,
 * `reuse`, `delta`, and `random` when none of them holds.
 */
import type { InboundPolicy } from '@pyp2p/rendezvous-protocol'
import { PORT_COLLISIONS } from './constants.js'

export type NatType = 'preserving' | 'delta' | 'reuse' | 'random'

/** One connection to the rendezvous server: the local port it came from, the port the server saw. */
export interface NatSample {
  readonly localPort: number
  readonly externalPort: number
}

export interface NatBehaviour {
  readonly type: NatType
  /** For `delta`: the step between the external ports of consecutive new mappings. */
  readonly delta?: number
  /** The observations the verdict came from, in the order they were made. */
  readonly samples: readonly NatSample[]
  /**
   * What the router does with unsolicited inbound SYNs, when probed (`detectNat({ inbound: true })`,
   * `detectInbound`): punches then tell the server, which lets a side behind a resetting router fire
   * first. Absent: unknown.
   */
  readonly inbound?: InboundPolicy
}

export interface ClassifyOptions {
  /** Samples that may disagree with a verdict (another program took a port). Default {@link PORT_COLLISIONS}. */
  collisions?: number
}

/** A verdict needs a strict majority and at most `collisions` dissenters. */
function enough(agreeing: number, total: number, collisions: number): boolean {
  return total > 0 && agreeing >= Math.max(Math.floor(total / 2) + 1, total - collisions)
}

/** `b - a` as the shortest signed step on the 16-bit port ring (a NAT may wrap from 65535 to 1024). */
function portStep(a: number, b: number): number {
  const d = (((b - a) % 65536) + 65536) % 65536
  return d > 32768 ? d - 65536 : d
}

/**
 * Classifies a NAT from samples taken in order. The first sample of each local port is a *new* mapping;
 * a later sample from the same local port (after the first connection closed) is a *reuse* test.
 *
 * - `preserving`: mappings keep the local port (pyp2p: at least 4 of 5 new ones; here also at most
 *   `collisions` local ports lose theirs in any sample, reconnections included).
 * - `reuse`: a local port maps to the same external port again (endpoint-independent mapping).
 * - `delta`: new mappings' external ports advance by a constant non-zero step (sequential NAT).
 * - `random`: none of these; the next external port cannot be predicted.
 *
 * Order matters: a preserving NAT also reuses, and an endpoint-independent sequential NAT is better
 * predicted by reuse (the punch reuses the observed mapping) than by its step.
 */
export function classifyNat(samples: readonly NatSample[], options: ClassifyOptions = {}): NatBehaviour {
  const collisions = options.collisions ?? PORT_COLLISIONS
  const first = new Map<number, NatSample>()
  const fresh: NatSample[] = []
  let reuseTotal = 0
  let reuseSame = 0
  /** Local ports with a sample that did not keep the port (a collision, wherever it fell). */
  const moved = new Set<number>()
  for (const s of samples) {
    if (s.externalPort !== s.localPort) moved.add(s.localPort)
    const earlier = first.get(s.localPort)
    if (earlier === undefined) {
      first.set(s.localPort, s)
      fresh.push(s)
    } else {
      reuseTotal++
      if (earlier.externalPort === s.externalPort) reuseSame++
    }
  }
  // Preserving: new mappings keep their port, and at most `collisions` local ports ever lost theirs. A
  // port taken by another host behind the same router costs one port, whichever sample of it met the
  // collision (a reconnection's included) and however often.
  const kept = fresh.filter((s) => s.externalPort === s.localPort).length
  if (enough(kept, fresh.length, collisions) && enough(first.size - moved.size, first.size, collisions)) {
    return { type: 'preserving', samples }
  }
  if (reuseTotal > 0 && enough(reuseSame, reuseTotal, collisions)) return { type: 'reuse', samples }
  const delta = sequentialStep(fresh, collisions)
  if (delta !== undefined) return { type: 'delta', delta, samples }
  return { type: 'random', samples }
}

/**
 * The step d such that most new mappings lie on one line `external[i] = base + d * i` (so a single
 * port taken by someone else in between costs one sample, not two steps). At least 3 new mappings.
 */
function sequentialStep(fresh: readonly NatSample[], collisions: number): number | undefined {
  if (fresh.length < 3) return undefined
  const candidates = new Set<number>()
  for (let i = 1; i < fresh.length; i++) {
    const step = portStep(fresh[i - 1]!.externalPort, fresh[i]!.externalPort)
    if (step !== 0) candidates.add(step)
  }
  let best: { step: number; count: number } | undefined
  for (const step of candidates) {
    const bases = new Map<number, number>()
    fresh.forEach((s, i) => {
      const base = (((s.externalPort - step * i) % 65536) + 65536) % 65536
      bases.set(base, (bases.get(base) ?? 0) + 1)
    })
    const count = Math.max(...bases.values())
    if (
      best === undefined ||
      count > best.count ||
      (count === best.count && Math.abs(step) < Math.abs(best.step))
    ) {
      best = { step, count }
    }
  }
  return best !== undefined && enough(best.count, fresh.length, collisions) ? best.step : undefined
}

/** True when the NAT's next mapping can be predicted, i.e. hole punching can work from this side. */
export function isPredictable(nat: Pick<NatBehaviour, 'type'>): boolean {
  return nat.type !== 'random'
}
