import { FramingError } from './errors.js'
import { LineQueue } from './line-queue.js'

/** What the inbox needs from its connection. */
export interface InboxHooks {
  /** Emits a `line` event; returns whether any listener took it (`EventEmitter#emit`). */
  emit(line: string): boolean
  hasListeners(): boolean
  /** Stop reading from the socket (TCP backpressure) / start again. */
  pause(): void
  resume(): void
}

interface Waiter {
  line(line: string): void
  end(): void
}

/**
 * Where received lines go, each exactly once and in order: to the oldest waiting reader (`next()`),
 * else to `line` listeners, else into a queue bounded in lines and in characters. When the queue is
 * full the socket is paused, and resumed once it is half empty: backpressure, not data loss.
 */
export class LineInbox {
  readonly #hooks: InboxHooks
  readonly #maxLines: number
  readonly #maxChars: number
  readonly #queue = new LineQueue()
  readonly #waiters: Waiter[] = []
  #ended = false
  #paused = false

  constructor(hooks: InboxHooks, maxLines: number, maxChars: number) {
    this.#hooks = hooks
    this.#maxLines = maxLines
    this.#maxChars = maxChars
  }

  /** No more lines will be delivered (queued ones can still be read). */
  get ended(): boolean {
    return this.#ended
  }

  get length(): number {
    return this.#queue.length
  }

  /** Hands over one received line (the decoder's callback: the hot path). */
  deliver = (line: string): void => {
    if (this.#ended) return
    if (this.#queue.length === 0) {
      if (this.#waiters.length > 0) {
        ;(this.#waiters.shift() as Waiter).line(line)
        return
      }
      // emit() returns whether a listener took it: one call instead of listenerCount() + emit().
      if (this.#hooks.emit(line)) return
    }
    this.#queue.push(line)
    if (this.#hooks.hasListeners()) {
      this.flush()
      return
    }
    if (!this.#paused && (this.#queue.length >= this.#maxLines || this.#queue.chars >= this.#maxChars)) {
      this.#paused = true
      this.#hooks.pause()
    }
  }

  /** The oldest queued line, or `undefined` when none is queued. Never waits. */
  shift(): string | undefined {
    const line = this.#queue.shift()
    if (
      this.#paused &&
      this.#queue.length <= this.#maxLines >>> 1 &&
      this.#queue.chars <= this.#maxChars / 2
    ) {
      this.#paused = false
      if (!this.#ended) this.#hooks.resume()
    }
    return line
  }

  /** Emits queued lines to `line` listeners while there are any. */
  flush = (): void => {
    while (this.#queue.length > 0 && this.#hooks.hasListeners()) this.#hooks.emit(this.shift() as string)
  }

  /**
   * The next line; `undefined` once the input has ended and the queue is empty. Rejects with
   * `ERR_ABORTED` or `ERR_READ_TIMEOUT`, removing itself from the waiters and clearing its timer.
   */
  next(signal?: AbortSignal, timeout?: number): Promise<string | undefined> {
    const queued = this.shift()
    if (queued !== undefined || this.#ended) return Promise.resolve(queued)
    if (signal?.aborted) return Promise.reject(FramingError.ABORTED(signal.reason))
    if (signal === undefined && timeout === undefined) {
      return new Promise((resolve) => this.#waiters.push({ line: resolve, end: () => resolve(undefined) }))
    }
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const settle = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const i = this.#waiters.indexOf(waiter)
        if (i !== -1) this.#waiters.splice(i, 1)
      }
      const waiter: Waiter = {
        line: (line) => {
          settle()
          resolve(line)
        },
        end: () => {
          settle()
          resolve(undefined)
        },
      }
      const onAbort = (): void => {
        settle()
        reject(FramingError.ABORTED(signal?.reason))
      }
      if (timeout !== undefined) {
        timer = setTimeout(() => {
          settle()
          reject(FramingError.READ_TIMEOUT(timeout))
        }, timeout)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  /** No more lines will arrive: waiting readers get `undefined` once the queue is empty. */
  end(): void {
    this.#ended = true
    if (this.#queue.length > 0) return
    for (const waiter of this.#waiters.splice(0)) waiter.end()
  }

  /** Drops every queued line. */
  clear(): void {
    this.#queue.clear()
  }
}
