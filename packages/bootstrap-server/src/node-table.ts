/**
 * Registered nodes, keyed by node id (pyp2p keyed by IP, so two nodes behind one NAT overwrote each
 * other). Bounded in total and per IP. `byId` is a Map, so its iteration order is registration order
 * (re-registering moves a node to the end): the lifetime sweep only walks the expired head.
 */
import { isIPv4 } from 'node:net'
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
  /** Index in the passive list, -1 for simultaneous nodes. */
  slot: number
}

export type AddResult =
  | { ok: true; replaced: NodeRecord | undefined }
  | { ok: false; reason: 'per-ip' | 'total' }

export function isLoopback(ip: string): boolean {
  return ip === '::1' || (isIPv4(ip) && ip.startsWith('127.'))
}

export class NodeTable {
  readonly #byId = new Map<string, NodeRecord>()
  readonly #perIp = new Map<string, number>()
  /** Passive nodes, for O(1) random picks; records know their slot for O(1) removal. */
  readonly #passive: NodeRecord[] = []
  #simultaneous = 0
  readonly #maxNodes: number
  readonly #maxPerIp: number

  constructor(maxNodes: number, maxPerIp: number) {
    this.#maxNodes = maxNodes
    this.#maxPerIp = maxPerIp
  }

  get size(): number {
    return this.#byId.size
  }
  get passiveCount(): number {
    return this.#passive.length
  }
  get simultaneousCount(): number {
    return this.#simultaneous
  }

  get(nodeId: string): NodeRecord | undefined {
    return this.#byId.get(nodeId)
  }

  /** Adds or replaces `rec.nodeId`. A replaced record is removed first and returned. */
  add(rec: NodeRecord): AddResult {
    const old = this.#byId.get(rec.nodeId)
    const sameIp = old !== undefined && old.ip === rec.ip
    if (!sameIp && (this.#perIp.get(rec.ip) ?? 0) >= this.#maxPerIp) return { ok: false, reason: 'per-ip' }
    if (old === undefined && this.#byId.size >= this.#maxNodes) return { ok: false, reason: 'total' }
    if (old !== undefined) this.remove(old)
    this.#byId.set(rec.nodeId, rec)
    this.#perIp.set(rec.ip, (this.#perIp.get(rec.ip) ?? 0) + 1)
    if (rec.nodeType === 'passive') {
      rec.slot = this.#passive.length
      this.#passive.push(rec)
    } else {
      rec.slot = -1
      this.#simultaneous++
    }
    return { ok: true, replaced: old }
  }

  /** Removes exactly this record (not a newer one with the same id). Returns whether it was there. */
  remove(rec: NodeRecord): boolean {
    if (this.#byId.get(rec.nodeId) !== rec) return false
    this.#byId.delete(rec.nodeId)
    const n = (this.#perIp.get(rec.ip) ?? 1) - 1
    if (n === 0) this.#perIp.delete(rec.ip)
    else this.#perIp.set(rec.ip, n)
    if (rec.slot >= 0) {
      const last = this.#passive.pop() as NodeRecord
      if (last !== rec) {
        this.#passive[rec.slot] = last
        last.slot = rec.slot
      }
      rec.slot = -1
    } else {
      this.#simultaneous--
    }
    return true
  }

  /**
   * Up to `n` distinct random passive nodes, never one in `exclude` (the asker's own ids) and never a
   * loopback address unless `allowLoopback`. O(n) expected, whatever the table size.
   */
  sample(n: number, exclude: readonly string[] | undefined, allowLoopback: boolean): NodeRecord[] {
    const list = this.#passive
    const out: NodeRecord[] = []
    if (list.length === 0) return out
    const ok = (r: NodeRecord): boolean =>
      (exclude === undefined || !exclude.includes(r.nodeId)) && (allowLoopback || !isLoopback(r.ip))
    if (list.length <= n * 2) {
      // Small table: shuffle a copy of the indices (Fisher-Yates) and take the first n that qualify.
      const idx = Array.from(list.keys())
      for (let i = idx.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1))
        ;[idx[i], idx[j]] = [idx[j] as number, idx[i] as number]
      }
      for (const i of idx) {
        const r = list[i] as NodeRecord
        if (ok(r)) out.push(r)
        if (out.length === n) break
      }
      return out
    }
    // Large table: random picks without repetition; a bounded number of tries skips excluded ones.
    const seen = new Set<number>()
    for (let tries = 0; out.length < n && tries < n * 4; tries++) {
      const i = Math.floor(Math.random() * list.length)
      if (seen.has(i)) continue
      seen.add(i)
      const r = list[i] as NodeRecord
      if (ok(r)) out.push(r)
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
    this.#perIp.clear()
    this.#passive.length = 0
    this.#simultaneous = 0
  }
}
