/**
 * Who holds a node's inbound slots, by network (@pyp2p/limits' `FairTable`): at most `maxPerIp` per IP
 * (an IPv6 /64) and `maxPerPrefix` per network (an IPv4 /24, an IPv6 /48; IPv4-mapped IPv6 is IPv4),
 * `maxInbound` in all. When all slots are taken, a newcomer gets one only by evicting a connection that
 * has sent nothing (no line, no keep-alive answer) for `idleEvictAfter` ms: first as the FairTable
 * decides (a newcomer whose network holds less than its share evicts from the network holding the
 * most), else from the most-represented network holding more than the newcomer's (or from the
 * newcomer's own); the longest silent goes first.
 * Connections that talk are never evicted: a full node refuses the newcomer (`ERR_PEER_FULL`).
 */
import type { LineSocket } from '@pyp2p/framing'
import { FairTable, type NetworkKeys } from '@pyp2p/limits'
import type { ResolvedInboundLimits } from './inbound-limits.js'

export type SlotRefusal = 'max-inbound' | 'per-ip' | 'per-prefix'

export type SlotAdmission =
  | { ok: true; keys: NetworkKeys; victim: LineSocket | undefined }
  | { ok: false; refusal: SlotRefusal; detail: string }

export interface InboundSlotsOptions extends ResolvedInboundLimits {
  maxInbound: number
  /** Milliseconds now, on the scale of `LineSocket#lastReceived`. Default `Date.now`. */
  now?: () => number
}

export class InboundSlots {
  readonly #o: InboundSlotsOptions
  readonly #table: FairTable<LineSocket>
  readonly #now: () => number
  /** The connections counted (the FairTable counts them but does not list them). */
  readonly #members = new Set<LineSocket>()

  constructor(o: InboundSlotsOptions) {
    this.#o = o
    this.#now = o.now ?? Date.now
    this.#table = new FairTable({
      capacity: Math.max(1, o.maxInbound),
      maxPerIp: o.maxPerIp,
      maxPerPrefix: o.maxPerPrefix,
      lengths: o.prefixLengths,
    })
  }

  get size(): number {
    return this.#table.size
  }

  /** Whether a connection from `address` may take a slot, and whom it evicts; counts nothing yet. */
  admit(address: string | undefined): SlotAdmission {
    const { maxInbound, maxPerIp, maxPerPrefix, idleEvictAfter } = this.#o
    if (maxInbound === 0) return { ok: false, refusal: 'max-inbound', detail: 'maxInbound is 0' }
    let keys: NetworkKeys
    try {
      keys = this.#table.keysOf(address ?? '')
    } catch {
      return { ok: false, refusal: 'max-inbound', detail: `no peer address (${address})` }
    }
    const a = this.#table.admit(keys, (members) => this.#idlest(members))
    if (a.ok) return a
    if (a.refusedBy === 'per-ip') {
      return {
        ok: false,
        refusal: 'per-ip',
        detail: `${a.key} holds ${maxPerIp} inbound slots (inboundLimits.maxPerIp)`,
      }
    }
    if (a.refusedBy === 'per-prefix') {
      const detail = `network ${a.key} holds ${maxPerPrefix} inbound slots (inboundLimits.maxPerPrefix)`
      return { ok: false, refusal: 'per-prefix', detail }
    }
    const victim = this.#idleOfLargest(keys)
    if (victim !== undefined) return { ok: true, keys, victim }
    const detail = `all ${maxInbound} inbound slots are taken (maxInbound), none silent for ${idleEvictAfter} ms`
    return { ok: false, refusal: 'max-inbound', detail }
  }

  /** Counts `con` in its slot (keys from `admit`). */
  add(con: LineSocket, keys: NetworkKeys): void {
    this.#table.add(con, keys)
    this.#members.add(con)
  }

  /** Frees `con`'s slot; idempotent. */
  delete(con: LineSocket): void {
    this.#table.delete(con)
    this.#members.delete(con)
  }

  /** The member silent the longest, if silent for `idleEvictAfter` at least. */
  #idlest(members: Iterable<LineSocket>): LineSocket | undefined {
    const limit = this.#now() - this.#o.idleEvictAfter
    let best: LineSocket | undefined
    for (const con of members) {
      if (con.lastReceived > limit) continue
      if (best === undefined || con.lastReceived < best.lastReceived) best = con
    }
    return best
  }

  /**
   * An idle connection of the network holding the most slots among those holding more than the
   * newcomer's (so none ends below it: no ping-pong), or of the newcomer's own network.
   */
  #idleOfLargest(keys: NetworkKeys): LineSocket | undefined {
    const own = this.#table.countPrefix(keys.prefix)
    const byPrefix = new Map<string, LineSocket[]>()
    for (const con of this.#members) {
      const prefix = this.#table.keysOfEntry(con)?.prefix ?? ''
      const list = byPrefix.get(prefix) ?? []
      list.push(con)
      byPrefix.set(prefix, list)
    }
    const ranked = [...byPrefix]
      .filter(([prefix, members]) => prefix === keys.prefix || members.length > own)
      .sort((x, y) => y[1].length - x[1].length)
    for (const [, members] of ranked) {
      const victim = this.#idlest(members)
      if (victim !== undefined) return victim
    }
    return undefined
  }
}
