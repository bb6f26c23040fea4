/**
 * What a {@link RendezvousSession} tells about an outage: the server it lost, since when and why, and,
 * once it is connected again, the `server:restored` (and, on another server, `server:failover`) events.
 */
import type { RendezvousSessionEvents } from './session-options.js'

type Restored = RendezvousSessionEvents['server:restored'][0]
type Failover = RendezvousSessionEvents['server:failover'][0]

export class Outage {
  readonly #now: () => number
  #lost: { server: string; at: number; reason: string } | undefined

  constructor(now: () => number) {
    this.#now = now
  }

  /** Whether we are without the server we had. */
  get ongoing(): boolean {
    return this.#lost !== undefined
  }

  /** The connection to `server` dropped (the first loss counts; retries do not restart the clock). */
  lose(server: string, reason: string): void {
    if (this.#lost === undefined) this.#lost = { server, at: this.#now(), reason }
  }

  /** Connected again, to `server`: the events to emit (none when nothing was lost). */
  end(server: string): { restored?: Restored; failover?: Failover } {
    const lost = this.#lost
    this.#lost = undefined
    if (lost === undefined) return {}
    const downMs = Math.max(0, this.#now() - lost.at)
    const restored = { server, previous: lost.server, downMs, reason: lost.reason }
    if (server === lost.server) return { restored }
    return { restored, failover: { from: lost.server, to: server, reason: lost.reason, preferred: false } }
  }
}
