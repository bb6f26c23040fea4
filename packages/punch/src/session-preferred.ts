/**
 * Return to the preferred server: while a {@link RendezvousSession} is connected to a fallback, it
 * tries its first (preferred) server every `intervalMs`; once that answers (and takes the registration,
 * when the session holds one), the session forgets itself on the fallback (`CLEAR`: a passive
 * registration outlives its connection there) and moves over.
 */
import createDebug from 'debug'
import type { RendezvousClient } from './rendezvous-client.js'
import { type Server, whereOf } from './session-connect.js'
import type { SessionTimer } from './session-timer.js'

const log = createDebug('pyp2p:punch:session')

/** What the probe needs of the session. */
export interface PreferredHost {
  /**
   * The connection and server in use while open; `busy` while (re)connecting; `registered` when the
   * session holds a registration (one without moves back too, with nothing to carry over).
   */
  current(): { client: RendezvousClient; server: Server; busy: boolean; registered: boolean } | undefined
  dial(server: Server): Promise<RendezvousClient>
  /** Sends the registration on `client` (rejects when the server refuses). */
  register(client: RendezvousClient): Promise<void>
  /** `CLEAR <node-id> <clear-token>` on `client`, bounded; never rejects. */
  clear(client: RendezvousClient): Promise<void>
  /** Takes `client`, registered, as the session's connection (closing the old one) and says so. */
  moveTo(client: RendezvousClient, server: Server, from: Server): void
}

export class PreferredProbe {
  readonly #preferred: Server | undefined
  readonly #host: PreferredHost
  readonly #timer: SessionTimer
  readonly #intervalMs: number

  constructor(preferred: Server | undefined, host: PreferredHost, timer: SessionTimer, intervalMs: number) {
    this.#preferred = preferred
    this.#host = host
    this.#timer = timer
    this.#intervalMs = intervalMs
  }

  /** Arms the next probe when the session is on a fallback; clears it when on the preferred server. */
  arm(): void {
    const preferred = this.#preferred
    const now = this.#host.current()
    if (preferred === undefined || now === undefined || whereOf(now.server) === whereOf(preferred)) {
      this.#timer.clear()
      return
    }
    if (this.#timer.armed) return
    this.#timer.arm(() => {
      this.#try(preferred).catch((err: unknown) => {
        log('preferred server %s still unavailable: %s', whereOf(preferred), (err as Error).message)
        this.arm()
      })
    }, this.#intervalMs)
  }

  clear(): void {
    this.#timer.clear()
  }

  async #try(preferred: Server): Promise<void> {
    const before = this.#host.current()
    if (before === undefined) return
    if (before.busy) throw new Error('the session is reconnecting')
    const client = await this.#host.dial(preferred)
    const { registered } = before
    try {
      if (registered) await this.#host.register(client)
    } catch (err) {
      client.close()
      throw err
    }
    const now = this.#host.current()
    if (now?.client !== before.client) {
      // The session moved meanwhile (a drop and reconnect): leave the preferred one as we found it.
      if (registered) await this.#host.clear(client)
      client.close()
      return
    }
    if (registered) await this.#host.clear(before.client)
    this.#host.moveTo(client, preferred, before.server)
  }
}
