/**
 * The client's messages waiting for the relay's SENT/FAIL. They stay queued across reconnects and are
 * sent again on each new connection until the relay answers (the relay drops the repeats).
 */
import { RelayError } from './errors.js'

export interface Outgoing {
  id: string
  to: string
  payload: string
  queuedAt: number
  resolve(): void
  reject(err: RelayError): void
}

export class OutgoingQueue {
  readonly #max: number
  readonly #ttl: number
  readonly #entries = new Map<string, Outgoing>()

  constructor(max: number, ttl: number) {
    this.#max = max
    this.#ttl = ttl
  }

  get size(): number {
    return this.#entries.size
  }

  /** Adds an entry; throws ERR_OUTGOING_QUEUE_FULL when the queue is full. */
  add(entry: Outgoing): void {
    if (this.#entries.size >= this.#max) throw RelayError.OUTGOING_QUEUE_FULL(this.#max)
    this.#entries.set(entry.id, entry)
  }

  /** Entries still worth sending, oldest first; expired ones are rejected with ERR_EXPIRED. */
  live(now: number): Outgoing[] {
    for (const e of this.#entries.values()) {
      if (now - e.queuedAt >= this.#ttl) this.settle(e.id, RelayError.EXPIRED(now - e.queuedAt))
    }
    return [...this.#entries.values()]
  }

  /** Resolve (no error) or reject an entry; false when it is no longer queued. */
  settle(id: string, error?: RelayError): boolean {
    const e = this.#entries.get(id)
    if (e === undefined) return false
    this.#entries.delete(id)
    if (error === undefined) e.resolve()
    else e.reject(error)
    return true
  }

  /** Reject everything (on close). */
  rejectAll(error: RelayError): void {
    for (const id of [...this.#entries.keys()]) this.settle(id, error)
  }
}
