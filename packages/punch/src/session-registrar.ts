/**
 * The two lines that make and end a {@link RendezvousSession}'s registration: `PASSIVE|SIMULTANEOUS
 * READY <port> <max-inbound> <node-id> <clear-token>` and `CLEAR <node-id> <clear-token>`. The clear
 * token is the session's secret, the same on every server and connection, so a registration that
 * outlived its connection can still be cleared.
 */
import { randomBytes } from 'node:crypto'
import createDebug from 'debug'
import { CLEAR_TOKEN_BYTES } from './constants.js'
import type { RendezvousClient } from './rendezvous-client.js'
import type { Registration } from './session-options.js'

const log = createDebug('pyp2p:punch:session')

export class Registrar {
  readonly #nodeId: string
  readonly #replyTimeout: number
  readonly #clearTimeout: number
  readonly #clearToken = randomBytes(CLEAR_TOKEN_BYTES).toString('base64url')

  constructor(nodeId: string, replyTimeout: number, clearTimeout: number) {
    this.#nodeId = nodeId
    this.#replyTimeout = replyTimeout
    this.#clearTimeout = clearTimeout
  }

  /** `READY` on `client`; rejects with the client's `PunchError` (a refusal, a timeout, a closed connection). */
  async ready(client: RendezvousClient, reg: Registration, signal: AbortSignal | undefined): Promise<void> {
    const msg = {
      type: 'READY',
      nodeType: reg.kind,
      port: reg.port,
      maxInbound: reg.maxInbound,
      nodeId: this.#nodeId,
      clearToken: this.#clearToken,
    } as const
    await client.request(msg, { timeout: this.#replyTimeout, ...(signal !== undefined && { signal }) })
  }

  /** `CLEAR <node-id> <clear-token>` on `client`. */
  async clear(client: RendezvousClient, signal: AbortSignal, timeout = this.#clearTimeout): Promise<void> {
    const clear = { type: 'CLEAR', nodeId: this.#nodeId, clearToken: this.#clearToken } as const
    await client.request(clear, { signal, timeout })
  }

  /** `clear()` bounded by the leave timeout; a failure is logged (the server's node lifetime ends it then). */
  async clearQuietly(client: RendezvousClient): Promise<void> {
    await this.clear(client, AbortSignal.timeout(this.#clearTimeout)).catch((err: unknown) => {
      log('CLEAR: %s', (err as Error).message)
    })
  }
}
