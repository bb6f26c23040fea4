/**
 * When to fire: the server sends both FIGHT lines at the same moment; a line takes about rtt/2 to reach
 * each side. Telling side i to wait `margin + (max(rtt) - rtt_i) / 2` after it receives the line makes
 * both start `margin + max(rtt)/2` after the server sent them, so both SYNs leave together without
 * synchronised clocks (pyp2p used NTP and a fixed 6 s meeting time instead).
 *
 * One exception: when one side said (`INBOUND TCP RST`) that its router resets unsolicited SYNs and
 * the other (`INBOUND TCP DROP`) that its router drops them, the first fires {@link FIGHT_LEAD_MS} first
 * (PROTOCOL.md "Firing order"). Its SYN opens its own router's mapping on the way
 * out and is dropped silently by the peer's router; the peer's SYN then finds the mapping open. The other
 * order gets the peer's first SYN reset (measured in the NAT lab: a second SYN needed in about half of
 * such punches, bench/results/punch.json).
 */
import { MAX_FIGHT_DELAY_MS } from '@pyp2p/rendezvous-protocol'

/**
 * How much earlier the side behind a resetting router fires, in ms. It must exceed the two sides'
 * firing skew, or the peer's SYN may still arrive first and be reset (then it is re-sent 3 ms later:
 * `FIRST_RETRY_GAP_MS` of @pyp2p/punch). Measured skew in the NAT lab with both RTTs known: p50 well
 * under 1 ms, p95 a few ms on a loaded 2-core machine (bench/results/punch.json); 10 ms covers that.
 * It is taken from the first side's delay, so a punch takes no longer for it while the lead fits in
 * that delay; only the part that does not (a side cannot fire before it hears FIGHT) is added to the
 * other side's. Over real paths the RST side's SYN waits at the peer's router (dropped, retransmitted
 * by the kernel) for as long as it takes.
 */
export const FIGHT_LEAD_MS = 10

/**
 * How long the server holds a `FIGHT` after `ACCEPT` while a side's first round-trip measurement (its
 * first `PONG`) is outstanding, in ms: the initial retransmission timeout of RFC 6298 (1 s), above any
 * round trip a punch can work with. Past it, the measured side's RTT stands in for the other's.
 */
export const FIGHT_HOLD_MS = 1_000

export interface FightDelays {
  readonly candidateMs: number
  readonly targetMs: number
}

export interface FightOrder {
  /** The side that fires first (its router resets unsolicited SYNs and the other's does not). */
  readonly first?: 'candidate' | 'target' | undefined
  /** How much earlier, in ms; default {@link FIGHT_LEAD_MS}. */
  readonly leadMs?: number
}

/**
 * `candidateRtt`/`targetRtt` are smoothed round-trip times in ms, 0 when not measured. A side not
 * measured gets the other side's RTT (equal delays); `defaultRtt` only when neither is measured (it then
 * cancels out). Results are whole milliseconds within the protocol's limit.
 */
export function fightDelays(
  candidateRtt: number,
  targetRtt: number,
  marginMs: number,
  defaultRtt: number,
  order: FightOrder = {},
): FightDelays {
  const measured = candidateRtt > 0 ? candidateRtt : targetRtt > 0 ? targetRtt : defaultRtt
  const a = candidateRtt > 0 ? candidateRtt : measured
  const b = targetRtt > 0 ? targetRtt : measured
  const max = Math.max(a, b)
  const lead = order.leadMs ?? FIGHT_LEAD_MS
  const clamp = (ms: number): number => Math.min(MAX_FIGHT_DELAY_MS, Math.max(0, Math.round(ms)))
  const candidateMs = marginMs + (max - a) / 2
  const targetMs = marginMs + (max - b) / 2
  if (order.first === undefined) return { candidateMs: clamp(candidateMs), targetMs: clamp(targetMs) }
  // The first side fires `lead` before its plain time as far as its delay allows; the rest of the
  // lead, if any, waits on the other side's delay.
  const [firstMs, otherMs] = order.first === 'candidate' ? [candidateMs, targetMs] : [targetMs, candidateMs]
  const early = Math.min(lead, firstMs)
  const shifted = [clamp(firstMs - early), clamp(otherMs + lead - early)] as const
  return order.first === 'candidate'
    ? { candidateMs: shifted[0], targetMs: shifted[1] }
    : { candidateMs: shifted[1], targetMs: shifted[0] }
}

/**
 * Who fires first, from what each side declared with `INBOUND` (undefined: not declared). Only a
 * declared `rst` against a declared `drop`: both resetting, only SYNs that cross in flight meet, so
 * neither waits; against a side that declared nothing (an older client, or a host without NAT that
 * listens instead of punching) a lead would only add delay.
 */
export function fightOrder(
  candidate: 'rst' | 'drop' | undefined,
  target: 'rst' | 'drop' | undefined,
): 'candidate' | 'target' | undefined {
  if (candidate === 'rst' && target === 'drop') return 'candidate'
  if (target === 'rst' && candidate === 'drop') return 'target'
  return undefined
}
