/**
 * Where the relay keeps messages until their recipient ACKs them. The default keeps them in memory; a
 * persistent store implements the same interface.
 */
import { RelayError } from './errors.js'

export interface StoredMessage {
  to: string
  from: string
  /** Chosen by the sender; unique per sender. */
  id: string
  /** base64url, as received. */
  payload: string
  /** The sender's address as the relay saw it. */
  fromAddress: string
  expiresAt: number
}

export interface StoreLimits {
  maxPerNode: number
  maxPerPair: number
  maxTotal: number
  maxBytes: number
}

export interface MessageStore {
  /**
   * Queue a message. Returns false when a message with the same sender and id is already queued
   * (a repeated send); throws RelayError ERR_QUEUE_FULL / ERR_RELAY_FULL when a limit is reached.
   */
  put(message: StoredMessage, now: number): boolean
  /** The recipient's unexpired messages, oldest first. */
  pending(to: string, now: number): StoredMessage[]
  /** Remove one message after its recipient confirmed it. */
  ack(to: string, from: string, id: string): boolean
  /** Drop expired messages; returns how many. */
  sweep(now: number): number
  /** Messages queued in total. */
  readonly size: number
  close?(): void | Promise<void>
}

export class MemoryMessageStore implements MessageStore {
  readonly #limits: StoreLimits
  readonly #queues = new Map<string, Map<string, StoredMessage>>()
  readonly #pairCounts = new Map<string, number>()
  #size = 0
  #bytes = 0

  constructor(limits: StoreLimits) {
    this.#limits = limits
  }

  get size(): number {
    return this.#size
  }

  /** Payload bytes (base64url characters) queued in total. */
  get bytes(): number {
    return this.#bytes
  }

  put(m: StoredMessage, now: number): boolean {
    const key = `${m.from}/${m.id}`
    const queue = this.#queues.get(m.to)
    const existing = queue?.get(key)
    if (existing !== undefined && existing.expiresAt > now) return false
    if (existing !== undefined) this.#remove(m.to, queue!, key, existing)
    this.#expireQueue(m.to, now)
    const q = this.#queues.get(m.to)
    const pair = `${m.from}>${m.to}`
    if ((q?.size ?? 0) >= this.#limits.maxPerNode) throw RelayError.QUEUE_FULL(m.to, this.#limits.maxPerNode)
    if ((this.#pairCounts.get(pair) ?? 0) >= this.#limits.maxPerPair) {
      throw RelayError.QUEUE_FULL(m.to, this.#limits.maxPerPair, 'messages from this sender')
    }
    if (this.#size >= this.#limits.maxTotal) throw RelayError.RELAY_FULL(`${this.#limits.maxTotal} messages`)
    if (this.#bytes + m.payload.length > this.#limits.maxBytes) {
      throw RelayError.RELAY_FULL(`${this.#limits.maxBytes} bytes`)
    }
    const target = q ?? new Map<string, StoredMessage>()
    if (q === undefined) this.#queues.set(m.to, target)
    target.set(key, { ...m })
    this.#pairCounts.set(pair, (this.#pairCounts.get(pair) ?? 0) + 1)
    this.#size += 1
    this.#bytes += m.payload.length
    return true
  }

  pending(to: string, now: number): StoredMessage[] {
    this.#expireQueue(to, now)
    return [...(this.#queues.get(to)?.values() ?? [])]
  }

  ack(to: string, from: string, id: string): boolean {
    const q = this.#queues.get(to)
    const key = `${from}/${id}`
    const m = q?.get(key)
    if (q === undefined || m === undefined) return false
    this.#remove(to, q, key, m)
    return true
  }

  sweep(now: number): number {
    const before = this.#size
    for (const to of [...this.#queues.keys()]) this.#expireQueue(to, now)
    return before - this.#size
  }

  #expireQueue(to: string, now: number): void {
    const q = this.#queues.get(to)
    if (q === undefined) return
    for (const [key, m] of q) if (m.expiresAt <= now) this.#remove(to, q, key, m)
  }

  #remove(to: string, q: Map<string, StoredMessage>, key: string, m: StoredMessage): void {
    q.delete(key)
    if (q.size === 0) this.#queues.delete(to)
    const pair = `${m.from}>${to}`
    const count = (this.#pairCounts.get(pair) ?? 1) - 1
    if (count <= 0) this.#pairCounts.delete(pair)
    else this.#pairCounts.set(pair, count)
    this.#size -= 1
    this.#bytes -= m.payload.length
  }
}
