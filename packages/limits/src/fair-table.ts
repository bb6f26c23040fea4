/**
 * A table strangers fill (connections, registrations, pending requests), bounded in total, per IP (an
 * IPv6 /64 counts as one) and per network prefix (IPv4 /24, IPv6 /48), and fair when full: a newcomer
 * whose prefix holds less than its fair share (capacity / prefixes present) is let in by evicting an
 * entry of the prefix that holds the most, as Bitcoin Core keeps its inbound table useful by evicting
 * from the most-represented network group. Which entry of that prefix goes is the owner's call (the
 * `VictimPolicy`): it knows which entries are idle, unauthenticated or long-lived and useful.
 *
 * The table only counts; it never closes anything. `admit()` decides, the owner evicts the victim (and
 * `delete()`s it) and `add()`s the newcomer.
 */
import { DEFAULT_MAX_PER_IP, DEFAULT_MAX_PER_PREFIX } from './constants.js'
import { LimitsError } from './errors.js'
import { checkPrefixLengths, type NetworkKeys, networkKeys, type PrefixLengths } from './network-prefix.js'

export interface FairTableOptions {
  /** Entries at most. */
  readonly capacity: number
  /** Entries per IP (an IPv6 /64). Default DEFAULT_MAX_PER_IP (256). */
  readonly maxPerIp?: number
  /** Entries per prefix (an IPv4 /24, an IPv6 /48). Default DEFAULT_MAX_PER_PREFIX (1,024). */
  readonly maxPerPrefix?: number
  /** Default IPv4 /24, IPv6 /64 as one IP, IPv6 /48. */
  readonly lengths?: Partial<PrefixLengths>
}

/** Which limit refused an entry: its IP's, its prefix's, or the table's (full, and the prefix at its share). */
export type RefusedBy = 'per-ip' | 'per-prefix' | 'full'

export type Admission<T> =
  | {
      readonly ok: true
      readonly keys: NetworkKeys
      /** An entry the owner must evict (and `delete()`) before adding the newcomer; undefined if none. */
      readonly victim: T | undefined
    }
  | {
      readonly ok: false
      readonly keys: NetworkKeys
      readonly refusedBy: RefusedBy
      /** The IP or prefix that is at its limit (for `full`: the newcomer's prefix). */
      readonly key: string
      /** The limit that was reached (for `full`: the newcomer prefix's fair share, or the capacity). */
      readonly limit: number
    }

/**
 * Picks the entry of `prefix` to evict, or undefined when every one is protected (the newcomer is then
 * refused). `members` iterates in the order entries were added (oldest first).
 */
export type VictimPolicy<T> = (members: ReadonlySet<T>, prefix: string) => T | undefined

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1)
    throw LimitsError.INVALID_LIMIT('fair table', name, v, 'an integer >= 1')
  return v
}

export class FairTable<T> {
  readonly capacity: number
  readonly maxPerIp: number
  readonly maxPerPrefix: number
  readonly lengths: PrefixLengths
  readonly #entries = new Map<T, NetworkKeys>()
  readonly #perIp = new Map<string, number>()
  readonly #byPrefix = new Map<string, Set<T>>()

  /** Throws `ERR_INVALID_LIMIT` for a limit that is not an integer >= 1 or a bad prefix length. */
  constructor(options: FairTableOptions) {
    this.capacity = positiveInt('capacity', options.capacity)
    this.maxPerIp = positiveInt('maxPerIp', options.maxPerIp ?? DEFAULT_MAX_PER_IP)
    this.maxPerPrefix = positiveInt('maxPerPrefix', options.maxPerPrefix ?? DEFAULT_MAX_PER_PREFIX)
    this.lengths = checkPrefixLengths(options.lengths)
  }

  get size(): number {
    return this.#entries.size
  }

  /** Prefixes holding at least one entry. */
  get prefixCount(): number {
    return this.#byPrefix.size
  }

  /** The keys of `ip` with this table's prefix lengths; throws `ERR_INVALID_ADDRESS`. */
  keysOf(ip: string): NetworkKeys {
    return networkKeys(ip, this.lengths)
  }

  /** Entries held by this IP key (`keys.host`). */
  countIp(host: string): number {
    return this.#perIp.get(host) ?? 0
  }

  /** Entries held by this prefix (`keys.prefix`). */
  countPrefix(prefix: string): number {
    return this.#byPrefix.get(prefix)?.size ?? 0
  }

  /** The keys an entry was added with. */
  keysOfEntry(item: T): NetworkKeys | undefined {
    return this.#entries.get(item)
  }

  /** A prefix's fair share when `prefix` holds an entry (capacity / prefixes, at least 1). */
  fairShare(prefix: string): number {
    const prefixes = this.#byPrefix.size + (this.#byPrefix.has(prefix) ? 0 : 1)
    return Math.max(1, Math.floor(this.capacity / prefixes))
  }

  /**
   * Whether an entry from `from` (an address, or keys from `keysOf`) may come in, and whom it displaces.
   * Per-IP and per-prefix limits refuse outright. A full table lets the newcomer in only when its prefix
   * holds less than its fair share and another prefix holds more than the newcomer's would after it
   * came in: then `policy` picks the victim from the prefix holding the most (no policy, or a policy
   * that protects every member, refuses). Adds nothing: the owner evicts, then calls `add()`.
   */
  admit(from: string | NetworkKeys, policy?: VictimPolicy<T>): Admission<T> {
    const keys = typeof from === 'string' ? this.keysOf(from) : from
    const ip = this.countIp(keys.host)
    if (ip >= this.maxPerIp)
      return { ok: false, keys, refusedBy: 'per-ip', key: keys.host, limit: this.maxPerIp }
    const own = this.countPrefix(keys.prefix)
    if (own >= this.maxPerPrefix) {
      return { ok: false, keys, refusedBy: 'per-prefix', key: keys.prefix, limit: this.maxPerPrefix }
    }
    if (this.#entries.size < this.capacity) return { ok: true, keys, victim: undefined }
    const share = this.fairShare(keys.prefix)
    const full = { ok: false, keys, refusedBy: 'full', key: keys.prefix } as const
    if (own >= share || policy === undefined) return { ...full, limit: own >= share ? share : this.capacity }
    const largest = this.largestPrefix()
    // Evicting must leave the victim's prefix at least as large as the newcomer's: no ping-pong.
    if (largest === undefined || largest.members.size <= own + 1 || largest.prefix === keys.prefix) {
      return { ...full, limit: share }
    }
    const victim = policy(largest.members, largest.prefix)
    if (victim === undefined || !largest.members.has(victim)) return { ...full, limit: share }
    return { ok: true, keys, victim }
  }

  /** The prefix holding the most entries (the first such one on a tie), with its members. */
  largestPrefix(): { prefix: string; members: ReadonlySet<T> } | undefined {
    let best: { prefix: string; members: ReadonlySet<T> } | undefined
    for (const [prefix, members] of this.#byPrefix) {
      if (best === undefined || members.size > best.members.size) best = { prefix, members }
    }
    return best
  }

  /** Counts `item` under `keys` (from `admit()` or `keysOf()`). Adding an item twice is a no-op. */
  add(item: T, keys: NetworkKeys): void {
    if (this.#entries.has(item)) return
    this.#entries.set(item, keys)
    this.#perIp.set(keys.host, this.countIp(keys.host) + 1)
    let members = this.#byPrefix.get(keys.prefix)
    if (members === undefined) {
      members = new Set()
      this.#byPrefix.set(keys.prefix, members)
    }
    members.add(item)
  }

  /** Forgets `item`; false if it was not counted. Idempotent. */
  delete(item: T): boolean {
    const keys = this.#entries.get(item)
    if (keys === undefined) return false
    this.#entries.delete(item)
    const n = this.countIp(keys.host) - 1
    if (n <= 0) this.#perIp.delete(keys.host)
    else this.#perIp.set(keys.host, n)
    const members = this.#byPrefix.get(keys.prefix)
    members?.delete(item)
    if (members?.size === 0) this.#byPrefix.delete(keys.prefix)
    return true
  }

  has(item: T): boolean {
    return this.#entries.has(item)
  }

  clear(): void {
    this.#entries.clear()
    this.#perIp.clear()
    this.#byPrefix.clear()
  }
}
