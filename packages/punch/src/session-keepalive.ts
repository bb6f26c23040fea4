/**
 * The keep-alive of a {@link RendezvousSession}'s connection: a `PING` every `intervalMs` so the
 * server's idle timeout never closes it, and the one way a session notices a server that vanished
 * without closing (a cut link, a crashed host, a NAT that forgot the flow): a `PING` unanswered within
 * the reply timeout declares the connection dead.
 */
import createDebug from 'debug'
import type { RendezvousClient } from './rendezvous-client.js'
import type { SessionTimer } from './session-timer.js'

const log = createDebug('pyp2p:punch:session')

export class KeepAlive {
  readonly #timer: SessionTimer
  readonly #intervalMs: number
  readonly #replyTimeout: number
  #pings = 0

  constructor(timer: SessionTimer, intervalMs: number, replyTimeout: number) {
    this.#timer = timer
    this.#intervalMs = intervalMs
    this.#replyTimeout = replyTimeout
  }

  /** Pings `client` until `clear()` or until it closes; `onDead(reason)` when a `PING` goes unanswered. */
  start(client: RendezvousClient, onDead: (reason: string) => void): void {
    this.#timer.arm(() => {
      if (!client.isOpen) return
      const ping = { type: 'PING', token: `k${++this.#pings}` } as const
      client.request(ping, { timeout: this.#replyTimeout }).catch((err: unknown) => {
        log('keep-alive PING: %s', (err as Error).message)
        if (client.isOpen) onDead(`keep-alive PING unanswered: ${(err as Error).message}`)
      })
      this.start(client, onDead)
    }, this.#intervalMs)
  }

  clear(): void {
    this.#timer.clear()
  }
}
