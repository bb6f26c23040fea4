/**
 * When to fire: the server sends both FIGHT lines at the same moment; a line takes about rtt/2 to reach
 * each side. Telling side i to wait `margin + (max(rtt) - rtt_i) / 2` after it receives the line makes
 * both start `margin + max(rtt)/2` after the server sent them, so both SYNs leave together without
 * synchronised clocks (pyp2p used NTP and a fixed 6 s meeting time instead).
 */
import { MAX_FIGHT_DELAY_MS } from '@pyp2p/rendezvous-protocol'

export interface FightDelays {
  readonly candidateMs: number
  readonly targetMs: number
}

/**
 * `candidateRtt`/`targetRtt` are smoothed round-trip times in ms, 0 when not measured (then
 * `defaultRtt` is used). Results are whole milliseconds within the protocol's limit.
 */
export function fightDelays(
  candidateRtt: number,
  targetRtt: number,
  marginMs: number,
  defaultRtt: number,
): FightDelays {
  const a = candidateRtt > 0 ? candidateRtt : defaultRtt
  const b = targetRtt > 0 ? targetRtt : defaultRtt
  const max = Math.max(a, b)
  const clamp = (ms: number): number => Math.min(MAX_FIGHT_DELAY_MS, Math.max(0, Math.round(ms)))
  return { candidateMs: clamp(marginMs + (max - a) / 2), targetMs: clamp(marginMs + (max - b) / 2) }
}
