/**
 * Fair shares of the relay's queues. Node ids are free to make and addresses of one block are cheap,
 * so besides the per-recipient and per-pair limits the memory store bounds what one sender node id and
 * one sender network prefix (IPv4 /24, IPv6 /48; @pyp2p/limits' `networkKeys`) may have queued: in
 * total, in bytes, and for one recipient. One network then cannot fill an offline node's queue nor the
 * relay: each refusal is a typed `RelayError` naming the prefix, with the limit's name for the stats.
 */
import { DEFAULT_PREFIX_LENGTHS, networkKeys, type PrefixLengths } from '@pyp2p/limits'
import { RelayError } from './errors.js'
import type { StoredMessage } from './stored-message.js'

export interface ShareLimits {
  /** Messages queued from one sender node id. */
  maxPerSender: number
  /** Messages queued from one sender prefix. */
  maxPerPrefix: number
  /** Payload bytes queued from one sender prefix. */
  maxBytesPerPrefix: number
  /** Messages queued from one sender prefix for one recipient. */
  maxPerPrefixPerNode: number
  /** Default IPv4 /24, IPv6 /48 (an IPv6 /64 counts as one address). */
  lengths?: PrefixLengths
}

/** The sender prefix of a stored message (an address that does not parse is its own prefix). */
export function senderPrefix(address: string, lengths: PrefixLengths = DEFAULT_PREFIX_LENGTHS): string {
  try {
    return networkKeys(address, lengths).prefix
  } catch {
    return address
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by
  if (n <= 0) map.delete(key)
  else map.set(key, n)
}

export class SenderShares {
  readonly #limits: ShareLimits
  readonly #perSender = new Map<string, number>()
  readonly #perPrefix = new Map<string, number>()
  readonly #bytesPerPrefix = new Map<string, number>()
  readonly #perPrefixNode = new Map<string, number>()

  constructor(limits: ShareLimits) {
    this.#limits = limits
  }

  prefixOf(m: StoredMessage): string {
    return senderPrefix(m.fromAddress, this.#limits.lengths)
  }

  /** The error if queueing `m` would take its sender or its sender's prefix past a share. */
  check(m: StoredMessage, prefix: string): RelayError | undefined {
    const l = this.#limits
    if ((this.#perSender.get(m.from) ?? 0) >= l.maxPerSender) {
      return RelayError.RELAY_FULL(`${l.maxPerSender} messages from this node id`, 'queue.per-sender')
    }
    if ((this.#perPrefixNode.get(`${prefix}>${m.to}`) ?? 0) >= l.maxPerPrefixPerNode) {
      const what = `messages from prefix=${prefix}`
      return RelayError.QUEUE_FULL(m.to, l.maxPerPrefixPerNode, what, 'queue.per-prefix-per-node')
    }
    if ((this.#perPrefix.get(prefix) ?? 0) >= l.maxPerPrefix) {
      return RelayError.RELAY_FULL(
        `prefix=${prefix} has ${l.maxPerPrefix} messages queued`,
        'queue.per-prefix',
      )
    }
    if ((this.#bytesPerPrefix.get(prefix) ?? 0) + m.payload.length > l.maxBytesPerPrefix) {
      return RelayError.RELAY_FULL(
        `prefix=${prefix} has ${l.maxBytesPerPrefix} bytes queued`,
        'queue.bytes-per-prefix',
      )
    }
    return undefined
  }

  add(m: StoredMessage, prefix: string): void {
    this.#count(m, prefix, 1)
  }

  remove(m: StoredMessage, prefix: string): void {
    this.#count(m, prefix, -1)
  }

  #count(m: StoredMessage, prefix: string, by: 1 | -1): void {
    bump(this.#perSender, m.from, by)
    bump(this.#perPrefix, prefix, by)
    bump(this.#bytesPerPrefix, prefix, by * m.payload.length)
    bump(this.#perPrefixNode, `${prefix}>${m.to}`, by)
  }
}
