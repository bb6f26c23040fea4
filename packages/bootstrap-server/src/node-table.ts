/**
 * Registered nodes, keyed by node id (pyp2p keyed by IP, so two nodes behind one NAT overwrote each
 * other). Bounded in total, per IP (an IPv6 /64 counts as one) and per network prefix (IPv4 /24, IPv6
 * /48), counted by @pyp2p/limits' `FairTable`: a registration over a limit is refused, never evicts. `byId` is a Map, so its iteration order is registration order
 * (re-registering moves a node to the end): the lifetime sweep only walks the expired head.
 */
import { isIPv4 } from 'node:net'
import { FairTable, type NetworkKeys, type PrefixLengths } from '@pyp2p/limits'
import type { NodeType } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'

export interface NodeRecord {
  readonly nodeId: string
  readonly nodeType: NodeType
  readonly ip: string
  readonly port: number
  readonly maxInbound: number
  readonly registeredAt: number
  /** The node's secret for `CLEAR <node-id> <clear-token>` from another connection, if it gave one. */
  readonly clearToken: string | undefined
  /**
   * The connection that registered it while it is open. A passive node outlives its connection; the
   * reference is dropped then so a closed socket is not kept for the node's lifetime.
   */
  conn: Connection | undefined
  /** Index in the list of its node type (passive or simultaneous), -1 when not in the table. */
  slot: number
}

export type AddResult =
  | { ok: true; replaced: NodeRecord | undefined }
  | {
      ok: false
      reason: 'per-ip' | 'per-prefix' | 'total'
      /** The IP or prefix at its limit (the registering prefix for 'total'). */
      key: string
      /** The registering address's prefix. */
      prefix: string
    }

export interface NodeTableLimits {
  /** Registered nodes per network prefix. Default: no limit beyond the total. */
  readonly maxPerPrefix?: number
  readonly lengths?: Partial<PrefixLengths>
  /** A registration was refused (for the server's limit counters). */
  readonly onRefused?: (reason: 'per-ip' | 'per-prefix' | 'total', prefix: string) => void
}

export function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIPv4(ip) && ip.startsWith('127.'))
}

export class NodeTable {
  readonly #byId = new Map<string, NodeRecord>()
  /** Counts per IP and prefix (its capacity is `maxNodes`). */
  readonly #counts: FairTable<NodeRecord>
  /** Passive nodes, for O(1) random picks; records know their slot for O(1) removal. */
  readonly #passive: NodeRecord[] = []
  /** Simultaneous nodes, the same way (`BOOTSTRAP` lists them too unless `bootstrapSimultaneous` is off). */
  readonly #simultaneous: NodeRecord[] = []
  readonly #maxNodes: number
  readonly #onRefused: NodeTableLimits['onRefused']

  constructor(maxNodes: number, maxPerIp: number, limits: NodeTableLimits = {}) {
    this.#maxNodes = maxNodes
    this.#onRefused = limits.onRefused
    this.#counts = new FairTable({
      capacity: maxNodes,
      maxPerIp,
      maxPerPrefix: limits.maxPerPrefix ?? maxNodes,
      ...(limits.lengths === undefined ? {} : { lengths: limits.lengths }),
    })
  }

  get size(): number {
    return this.#byId.size
  }
  get passiveCount(): number {
    return this.#passive.length
  }
  get simultaneousCount(): number {
    return this.#simultaneous.length
  }

  /** Every record, oldest registration first. */
  values(): IterableIterator<NodeRecord> {
    return this.#byId.values()
  }

  /** Where the per-IP limit counts `ip` (an IPv6 /64 counts as one address). */
  hostKey(ip: string): string {
    return this.#counts.keysOf(ip).host
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.#byId.get(nodeId)
  }

  /**
   * Adds or replaces `rec.nodeId`. A replaced record is removed first and returned. `keys`: where
   * `rec.ip` counts, when the caller has them already (its connection's: shared, not made again).
   */
  add(rec: NodeRecord, keys: NetworkKeys = this.#counts.keysOf(rec.ip)): AddResult {
    const old = this.#byId.get(rec.nodeId)
    const was = old === undefined ? undefined : this.#counts.keysOfEntry(old)
    // Re-registering an id replaces its record: the old one's place counts as free.
    const ip = this.#counts.countIp(keys.host) - (was?.host === keys.host ? 1 : 0)
    const inPrefix = this.#counts.countPrefix(keys.prefix) - (was?.prefix === keys.prefix ? 1 : 0)
    const refused = (reason: 'per-ip' | 'per-prefix' | 'total', key: string): AddResult => {
      this.#onRefused?.(reason, keys.prefix)
      return { ok: false, reason, key, prefix: keys.prefix }
    }
    if (ip >= this.#counts.maxPerIp) return refused('per-ip', keys.host)
    if (old === undefined && this.#byId.size >= this.#maxNodes) return refused('total', keys.prefix)
    if (inPrefix >= this.#counts.maxPerPrefix) return refused('per-prefix', keys.prefix)
    if (old !== undefined) this.remove(old)
    this.#byId.set(rec.nodeId, rec)
    this.#counts.add(rec, keys)
    const list = rec.nodeType === 'passive' ? this.#passive : this.#simultaneous
    rec.slot = list.length
    list.push(rec)
    return { ok: true, replaced: old }
  }

  /** Removes exactly this record (not a newer one with the same id). Returns whether it was there. */
  remove(rec: NodeRecord): boolean {
    if (this.#byId.get(rec.nodeId) !== rec) return false
    this.#byId.delete(rec.nodeId)
    this.#counts.delete(rec)
    const list = rec.nodeType === 'passive' ? this.#passive : this.#simultaneous
    if (rec.slot >= 0) {
      const last = list.pop() as NodeRecord
      if (last !== rec) {
        list[rec.slot] = last
        last.slot = rec.slot
      }
      rec.slot = -1
    }
    return true
  }

  /**
   * Up to `n` distinct random passive nodes (and simultaneous ones with `simultaneous`), never one in
   * `exclude` (the asker's own ids) and never a loopback address unless `allowLoopback`. O(n)
   * expected, whatever the table size.
   */
  sample(
    n: number,
    exclude: readonly string[] | undefined,
    allowLoopback: boolean,
    simultaneous = false,
  ): NodeRecord[] {
    const passive = this.#passive
    const others = this.#simultaneous
    const count = passive.length + (simultaneous ? others.length : 0)
    const out: NodeRecord[] = []
    if (count === 0) return out
    // One list of both kinds, without copying: passive first, then simultaneous (`at`, below).
    if (count <= n * 2) {
      // Small table: shuffle a copy of the indices (Fisher-Yates) and take the first n that qualify.
      const idx = Array.from({ length: count }, (_, i) => i)
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        ;[idx[i], idx[j]] = [idx[j] as number, idx[i] as number]
      }
      for (const i of idx) {
        const r = at(passive, others, i)
        if (qualifies(r, exclude, allowLoopback)) out.push(r)
        if (out.length === n) break
      }
      return out
    }
    // Large table: random picks without repetition; a bounded number of tries skips excluded ones.
    const seen = new Set<number>()
    for (let tries = 0; out.length < n && tries < n * 4; tries++) {
      const i = Math.floor(Math.random() * count)
      if (seen.has(i)) continue
      seen.add(i)
      const r = at(passive, others, i)
      if (qualifies(r, exclude, allowLoopback)) out.push(r)
    }
    return out
  }

  /** Removes every record registered at or before `cutoff`, oldest first, calling `onExpired` for each. */
  expire(cutoff: number, onExpired: (rec: NodeRecord) => void): void {
    for (const rec of this.#byId.values()) {
      if (rec.registeredAt > cutoff) break
      this.remove(rec)
      onExpired(rec)
    }
  }

  clear(): void {
    this.#byId.clear()
    this.#counts.clear()
    this.#passive.length = 0
    this.#simultaneous.length = 0
  }
}

/** Entry `i` of the passive list followed by the simultaneous one. */
function at(passive: readonly NodeRecord[], others: readonly NodeRecord[], i: number): NodeRecord {
  return (i < passive.length ? passive[i] : others[i - passive.length]) as NodeRecord
}

/** Whether `sample()` may list `r`: not one of the asker's own ids, not loopback unless allowed. */
function qualifies(r: NodeRecord, exclude: readonly string[] | undefined, allowLoopback: boolean): boolean {
  return (exclude === undefined || !exclude.includes(r.nodeId)) && (allowLoopback || !isLoopback(r.ip))
}
