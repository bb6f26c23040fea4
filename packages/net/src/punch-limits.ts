/**
 * The `punchLimits` option: limits on the punches other nodes make this node take part in (issue 18),
 * handed to @pyp2p/unl's `RendezvousPuncher` (its `PunchGuard`). Checked when the `Net` is made, so a
 * bad value fails at `new Net()` with `ERR_INVALID_OPTION`, not later at `start()`.
 */
import {
  PUNCH_MAX_CONCURRENT,
  PUNCH_MAX_PENDING,
  PUNCH_PENDING_MAX_WAIT_MS,
  PUNCH_PER_REQUESTER_BURST,
  PUNCH_PER_REQUESTER_PER_MINUTE,
} from '@pyp2p/unl'
import { NetError } from './errors.js'

/**
 * Every field optional; defaults are @pyp2p/unl's constants: `maxConcurrent` 10
 * ({@link PUNCH_MAX_CONCURRENT}), `maxPending` 20 ({@link PUNCH_MAX_PENDING}), `maxWaitMs` 5,000
 * ({@link PUNCH_PENDING_MAX_WAIT_MS}), `perRequesterBurst` 12 ({@link PUNCH_PER_REQUESTER_BURST}),
 * `perRequesterPerMinute` 12 ({@link PUNCH_PER_REQUESTER_PER_MINUTE}).
 */
export interface NetPunchLimits {
  /** Punches this node takes part in as the target at once. Default 10. */
  maxConcurrent?: number
  /** Challenges waiting for a free slot; more are refused at once (0: none wait). Default 20. */
  maxPending?: number
  /** How long a challenge may wait for a slot, ms. Default 5,000. */
  maxWaitMs?: number
  /** Punches one requester (a node id) may start in a burst. Default 12. */
  perRequesterBurst?: number
  /** Then this many per minute. Default 12. */
  perRequesterPerMinute?: number
}

const RANGES: Record<keyof NetPunchLimits, [min: number, max: number, fallback: number]> = {
  maxConcurrent: [1, 100_000, PUNCH_MAX_CONCURRENT],
  maxPending: [0, 100_000, PUNCH_MAX_PENDING],
  maxWaitMs: [1, 3_600_000, PUNCH_PENDING_MAX_WAIT_MS],
  perRequesterBurst: [1, 100_000, PUNCH_PER_REQUESTER_BURST],
  perRequesterPerMinute: [1, 6_000_000, PUNCH_PER_REQUESTER_PER_MINUTE],
}

/** Fills in the defaults and checks every value; throws `NetError` `ERR_INVALID_OPTION` (`punchLimits.<name>`). */
export function resolvePunchLimits(given: NetPunchLimits | undefined): Required<NetPunchLimits> {
  if (given !== undefined && (typeof given !== 'object' || given === null))
    throw NetError.INVALID_OPTION('punchLimits', given, 'an object of punch limits')
  const out = {} as Required<NetPunchLimits>
  for (const [name, [min, max, fallback]] of Object.entries(RANGES) as [
    keyof NetPunchLimits,
    [number, number, number],
  ][]) {
    const v = given?.[name] ?? fallback
    if (!Number.isSafeInteger(v) || v < min || v > max)
      throw NetError.INVALID_OPTION(`punchLimits.${name}`, v, `an integer ${min}..${max}`)
    out[name] = v
  }
  for (const name of Object.keys(given ?? {}))
    if (!(name in RANGES))
      throw NetError.INVALID_OPTION(`punchLimits.${name}`, name, Object.keys(RANGES).join(', '))
  return out
}
