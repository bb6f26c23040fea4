/**
 * Received messages waiting for a reader, and the ids already seen (delivery is at-least-once: a
 * message the relay pushed before a drop comes again after the reconnect).
 */
import type { TransportMessage } from './transport.js'

export class SeenIds {
  readonly #max: number
  readonly #ids = new Set<string>()

  constructor(max: number) {
    this.#max = max
  }

  has(key: string): boolean {
    return this.#ids.has(key)
  }

  add(key: string): void {
    this.#ids.add(key)
    if (this.#ids.size > this.#max) {
      const oldest = this.#ids.values().next()
      if (!oldest.done) this.#ids.delete(oldest.value)
    }
  }
}

type Waiter = (message: TransportMessage | undefined) => void

export class Inbox {
  readonly #max: number
  readonly #messages: TransportMessage[] = []
  readonly #waiters: Waiter[] = []
  #ended = false

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#messages.length
  }

  get hasWaiters(): boolean {
    return this.#waiters.length > 0
  }

  /** Hand to a waiting reader or queue; false when the queue is full (the caller does not ACK). */
  push(message: TransportMessage): boolean {
    const waiter = this.#waiters.shift()
    if (waiter !== undefined) {
      waiter(message)
      return true
    }
    if (this.#messages.length >= this.#max) return false
    this.#messages.push(message)
    return true
  }

  shift(): TransportMessage | undefined {
    return this.#messages.shift()
  }

  /** The next message, or undefined when the inbox ended or `signal` fired. */
  next(signal?: AbortSignal): Promise<TransportMessage | undefined> {
    const queued = this.#messages.shift()
    if (queued !== undefined || this.#ended || signal?.aborted) return Promise.resolve(queued)
    return new Promise((resolve) => {
      const waiter: Waiter = (m) => {
        signal?.removeEventListener('abort', onAbort)
        resolve(m)
      }
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter)
        if (i !== -1) this.#waiters.splice(i, 1)
        resolve(undefined)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
    })
  }

  end(): void {
    this.#ended = true
    for (const w of this.#waiters.splice(0)) w(undefined)
  }
}
