/**
 * Where the relay keeps messages until their recipient ACKs them. The default keeps them in memory; a
 * persistent store implements the same interface. The memory store shares its queues fairly: besides
 * the per-recipient, per-pair and total limits, one sender node id and one sender network prefix may
 * hold only their share (sender-shares.ts).
 */
import type { PrefixLengths } from '@pyp2p/limits'
import {
  MAX_QUEUED_BYTES_PER_PREFIX,
  MAX_QUEUED_PER_PREFIX,
  MAX_QUEUED_PER_PREFIX_PER_NODE,
  MAX_QUEUED_PER_SENDER,
} from './constants.js'
import { RelayError } from './errors.js'
import { SenderShares } from './sender-shares.js'
import type { StoredMessage } from './stored-message.js'

export type { StoredMessage } from './stored-message.js'

export interface StoreLimits {
  maxPerNode: number
  maxPerPair: number
  maxTotal: number
  maxBytes: number
  /** Messages from one sender node id. Default MAX_QUEUED_PER_SENDER (1,000). */
  maxPerSender?: number
  /** Messages from one sender prefix (IPv4 /24, IPv6 /48). Default MAX_QUEUED_PER_PREFIX (6,250). */
  maxPerPrefix?: number
  /** Payload bytes from one sender prefix. Default MAX_QUEUED_BYTES_PER_PREFIX (4 MiB). */
  maxBytesPerPrefix?: number
  /** Messages from one sender prefix to one recipient. Default MAX_QUEUED_PER_PREFIX_PER_NODE (25). */
  maxPerPrefixPerNode?: number
  /** Prefix lengths (default IPv4 /24, IPv6 /48, an IPv6 /64 as one address). */
  prefixLengths?: PrefixLengths
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
  readonly #shares: SenderShares
  #size = 0
  #bytes = 0

  constructor(limits: StoreLimits) {
    this.#limits = limits
    this.#shares = new SenderShares({
      // Absolute defaults (the shares of the default totals): a store built with smaller totals and
      // no shares behaves as before shares existed; set the shares with the totals.
      maxPerSender: limits.maxPerSender ?? MAX_QUEUED_PER_SENDER,
      maxPerPrefix: limits.maxPerPrefix ?? MAX_QUEUED_PER_PREFIX,
      maxBytesPerPrefix: limits.maxBytesPerPrefix ?? MAX_QUEUED_BYTES_PER_PREFIX,
      maxPerPrefixPerNode: limits.maxPerPrefixPerNode ?? MAX_QUEUED_PER_PREFIX_PER_NODE,
      ...(limits.prefixLengths === undefined ? {} : { lengths: limits.prefixLengths }),
    })
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
      throw RelayError.QUEUE_FULL(
        m.to,
        this.#limits.maxPerPair,
        'messages from this sender',
        'queue.per-pair',
      )
    }
    const prefix = this.#shares.prefixOf(m)
    const unfair = this.#shares.check(m, prefix)
    if (unfair !== undefined) throw unfair
    if (this.#size >= this.#limits.maxTotal) {
      throw RelayError.RELAY_FULL(`${this.#limits.maxTotal} messages`, 'queue.total')
    }
    if (this.#bytes + m.payload.length > this.#limits.maxBytes) {
      throw RelayError.RELAY_FULL(`${this.#limits.maxBytes} bytes`, 'queue.bytes')
    }
    const target = q ?? new Map<string, StoredMessage>()
    if (q === undefined) this.#queues.set(m.to, target)
    target.set(key, { ...m })
    this.#pairCounts.set(pair, (this.#pairCounts.get(pair) ?? 0) + 1)
    this.#shares.add(m, prefix)
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
    this.#shares.remove(m, this.#shares.prefixOf(m))
    this.#size -= 1
    this.#bytes -= m.payload.length
  }
}
