/**
 * Where a received message goes. Each message goes to exactly one reader: a waiting iterator, else
 * the 'message' listeners, else the inbox (read by the next iterator or the first listener
 * attached). Duplicates of at-least-once delivery are dropped by sender and message id.
 */
import { Inbox, SeenIds } from './inbox.js'
import type { TransportMessage } from './transport.js'

export interface Listeners {
  /** How many 'message' listeners are attached. */
  count(): number
  emit(message: TransportMessage): void
}

export class Incoming {
  readonly #inbox: Inbox
  readonly #seen: SeenIds
  readonly #listeners: Listeners

  constructor(options: { maxInbox: number; seenIds: number }, listeners: Listeners) {
    this.#inbox = new Inbox(options.maxInbox)
    this.#seen = new SeenIds(options.seenIds)
    this.#listeners = listeners
  }

  /**
   * Hand `message` to its reader. False when the inbox is full: the caller does not ACK, so the
   * message stays on the relay and comes again after a reconnect. A duplicate is dropped (true).
   */
  receive(message: TransportMessage): boolean {
    const key = `${message.from}/${message.id}`
    if (this.#seen.has(key)) return true
    if (this.#inbox.hasWaiters || this.#listeners.count() === 0) {
      if (!this.#inbox.push(message)) return false
    } else {
      this.#listeners.emit(message)
    }
    this.#seen.add(key)
    return true
  }

  /** Give the messages that waited in the inbox to the listeners, once there are some. */
  flush(): void {
    while (this.#inbox.size > 0 && this.#listeners.count() > 0) {
      const m = this.#inbox.shift()
      if (m !== undefined) this.#listeners.emit(m)
    }
  }

  /** The next message, or undefined when ended or `signal` fired. */
  next(signal?: AbortSignal): Promise<TransportMessage | undefined> {
    return this.#inbox.next(signal)
  }

  end(): void {
    this.#inbox.end()
  }
}
