// Noticing that a gateway lost its mappings (a reboot) from the epoch it sends with every reply:
// NAT-PMP's rule (RFC 6886 section 3.6) and PCP's (RFC 6887 section 8.5), one tracker per client.
import createDebug from 'debug'
import type { Clock } from './clock.js'
import { EPOCH_SLACK_S, PCP_EPOCH_BACKWARDS_SLACK_S, PCP_EPOCH_SLACK_S } from './constants.js'

const debug = createDebug('pyp2p:nat')

export type EpochProtocol = 'natpmp' | 'pcp'

/** True when the server's epoch says it lost its state since the previous reply (pure, for tests). */
export function epochShowsRestart(
  protocol: EpochProtocol,
  prev: { epoch: number; at: number },
  epoch: number,
  now: number,
): boolean {
  const clientDelta = (now - prev.at) / 1000
  if (protocol === 'natpmp') {
    // RFC 6886 3.6: expect at least 7/8 of the elapsed time on the server's clock, less 2 s of slack.
    return epoch < prev.epoch + clientDelta * (7 / 8) - EPOCH_SLACK_S
  }
  // RFC 6887 8.5: going back more than a second, or the two clocks drifting apart by more than
  // 2 s plus a sixteenth, both mean the state was lost.
  if (epoch + PCP_EPOCH_BACKWARDS_SLACK_S < prev.epoch) return true
  const serverDelta = epoch - prev.epoch
  return (
    clientDelta + PCP_EPOCH_SLACK_S < serverDelta - serverDelta / 16 ||
    serverDelta + PCP_EPOCH_SLACK_S < clientDelta - clientDelta / 16
  )
}

export class EpochTracker {
  readonly #clock: Clock
  readonly #last = new Map<string, { epoch: number; at: number }>()

  constructor(clock: Clock) {
    this.#clock = clock
  }

  /** Records an epoch heard from `gateway`; true when it shows the gateway restarted. */
  check(protocol: EpochProtocol, gateway: string, epoch: number): boolean {
    const key = `${protocol} ${gateway}`
    const now = this.#clock.now()
    const prev = this.#last.get(key)
    this.#last.set(key, { epoch, at: now })
    if (prev === undefined || !epochShowsRestart(protocol, prev, epoch, now)) return false
    debug('%s epoch of %s went from %d to %d: it restarted', protocol, gateway, prev.epoch, epoch)
    return true
  }
}
