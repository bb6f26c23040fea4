/**
 * What the server says unasked about a candidate's punches: `FIGHT` (fire now) or `ERROR ... punch=<id>`
 * (the punch is over). `FIGHT` can arrive in the same read as `PREDICTION SET`, before the caller has
 * started waiting for it, so the latest few are kept until someone asks.
 */
import type { CloseInfo } from '@pyp2p/framing'
import type { ErrorMessage, FightMessage } from '@pyp2p/rendezvous-protocol'
import { REPLY_TIMEOUT_MS } from './constants.js'
import { PunchError, type PunchStage } from './errors.js'
import type { RequestOptions } from './reply-queue.js'
import { errorFromServer } from './server-reply.js'

/** Unsolicited `FIGHT`/punch `ERROR`s kept until someone waits for them (oldest dropped first). */
const MAX_REMEMBERED_PUNCHES = 32

/** Listeners for the client's `fight`, `punch-end` and `close` events. */
export interface PunchNewsHandlers {
  fight(fight: FightMessage): void
  end(error: ErrorMessage): void
  close(info: CloseInfo): void
}

/** Attaches the handlers to the client's events; returns the function that detaches them. */
export type PunchNewsSource = (handlers: PunchNewsHandlers) => () => void

export class PunchNews {
  readonly #news = new Map<string, FightMessage | ErrorMessage>()

  remember(punchId: string, msg: FightMessage | ErrorMessage): void {
    this.#news.set(punchId, msg)
    if (this.#news.size > MAX_REMEMBERED_PUNCHES) {
      const oldest = this.#news.keys().next().value
      if (oldest !== undefined) this.#news.delete(oldest)
    }
  }

  /**
   * The `FIGHT` of `punchId` (kept, or the next `fight` event `subscribe` passes on), or the server's verdict on
   * it as a `PunchError`; `unreachable()` when the connection closes.
   */
  wait(
    punchId: string,
    subscribe: PunchNewsSource,
    ctx: { stage: PunchStage; isOpen: boolean; unreachable(cause?: unknown): PunchError },
    options: RequestOptions = {},
  ): Promise<FightMessage> {
    const { signal, timeout = REPLY_TIMEOUT_MS } = options
    const { stage } = ctx
    if (signal?.aborted) return Promise.reject(PunchError.ABORTED(stage, signal.reason))
    const news = this.#news.get(punchId)
    if (news !== undefined) {
      this.#news.delete(punchId)
      return news.type === 'FIGHT' ? Promise.resolve(news) : Promise.reject(errorFromServer(stage, news))
    }
    if (!ctx.isOpen) return Promise.reject(ctx.unreachable())
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        unsubscribe()
      }
      const onFight = (fight: FightMessage): void => {
        if (fight.punchId !== punchId) return
        this.#news.delete(punchId)
        cleanup()
        resolve(fight)
      }
      const onEnd = (err: ErrorMessage): void => {
        if (err.punchId !== punchId) return
        this.#news.delete(punchId)
        cleanup()
        reject(errorFromServer(stage, err))
      }
      const onClose = (info: CloseInfo): void => {
        cleanup()
        reject(ctx.unreachable(info.error))
      }
      const onAbort = (): void => {
        cleanup()
        reject(PunchError.ABORTED(stage, signal?.reason))
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(PunchError.TIMEOUT(stage, `FIGHT for punch ${punchId}`, timeout))
      }, timeout)
      const unsubscribe = subscribe({ fight: onFight, end: onEnd, close: onClose })
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}
