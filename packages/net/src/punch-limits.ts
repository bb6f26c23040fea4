/**
 * The `punchLimits` option: limits on the punches other nodes make this node take part in (issue 18),
 * handed to @pyp2p/unl's `RendezvousPuncher` (its `PunchGuard`). Checked when the `Net` is made, so a
 * bad value fails at `new Net()` with `ERR_INVALID_OPTION`, not later at `start()`.
 */
import { resolvePunchLimits as checkPunchLimits, type PunchLimits } from '@pyp2p/unl'
import { NetError } from './errors.js'

/**
 * Every field optional; defaults are @pyp2p/unl's constants: `maxConcurrent` 10, `maxPending` 20,
 * `maxWaitMs` 5,000, `perRequesterBurst` 12, `perRequesterPerMinute` 12 (its `PunchLimits`, without
 * the clock: a Net's clock is the system's).
 */
export type NetPunchLimits = Omit<PunchLimits, 'clock'>

/** Fills in the defaults and checks every value (@pyp2p/unl's one check); throws `NetError` `ERR_INVALID_OPTION` (`punchLimits.<name>`). */
export function resolvePunchLimits(given: NetPunchLimits | undefined): Required<NetPunchLimits> {
  return checkPunchLimits(given, 'punchLimits', NetError.INVALID_OPTION)
}
