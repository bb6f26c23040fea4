/**
 * Pending punches: a candidate asked to punch to a simultaneous node, the node was challenged, and the
 * server waits for its ACCEPT or REJECT. Every punch has the same timeout, so the Map's insertion order
 * is expiry order and the sweep walks only the expired head.
 */
import { randomBytes } from 'node:crypto'
import { PUNCH_ID_HEX_LENGTH } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'

export interface Punch {
  readonly id: string
  readonly candidate: Connection
  readonly candidateNodeId: string
  readonly candidatePorts: readonly number[]
  readonly target: Connection
  readonly targetNodeId: string
  readonly createdAt: number
}

export class PunchTable {
  readonly #byId = new Map<string, Punch>()
  /** Pending punches per target node id (pyp2p: at most 100 candidates per node). */
  readonly #perTarget = new Map<string, number>()

  get size(): number {
    return this.#byId.size
  }

  get(id: string): Punch | undefined {
    return this.#byId.get(id)
  }

  countFor(targetNodeId: string): number {
    return this.#perTarget.get(targetNodeId) ?? 0
  }

  /** The pending punch from this candidate node to this target, if any (pyp2p replaced such a one). */
  findPair(candidateNodeId: string, target: Connection): Punch | undefined {
    if (target.punches === undefined) return undefined
    for (const p of target.punches) if (p.target === target && p.candidateNodeId === candidateNodeId) return p
    return undefined
  }

  create(fields: Omit<Punch, 'id'>): Punch {
    let id = randomBytes(PUNCH_ID_HEX_LENGTH / 2).toString('hex')
    while (this.#byId.has(id)) id = randomBytes(PUNCH_ID_HEX_LENGTH / 2).toString('hex')
    const punch: Punch = { id, ...fields }
    this.#byId.set(id, punch)
    this.#perTarget.set(punch.targetNodeId, this.countFor(punch.targetNodeId) + 1)
    for (const conn of [punch.candidate, punch.target]) {
      conn.punches ??= new Set()
      conn.punches.add(punch)
    }
    punch.candidate.started++
    return punch
  }

  /** Forgets the punch everywhere it is referenced. Returns whether it was pending. */
  delete(punch: Punch): boolean {
    if (!this.#byId.delete(punch.id)) return false
    const n = this.countFor(punch.targetNodeId) - 1
    if (n <= 0) this.#perTarget.delete(punch.targetNodeId)
    else this.#perTarget.set(punch.targetNodeId, n)
    for (const conn of [punch.candidate, punch.target]) {
      conn.punches?.delete(punch)
      if (conn.punches?.size === 0) conn.punches = undefined
    }
    punch.candidate.started--
    return true
  }

  /** Deletes every punch created at or before `cutoff`, oldest first, calling `onExpired` for each. */
  expire(cutoff: number, onExpired: (punch: Punch) => void): void {
    for (const punch of this.#byId.values()) {
      if (punch.createdAt > cutoff) break
      this.delete(punch)
      onExpired(punch)
    }
  }

  all(): IterableIterator<Punch> {
    return this.#byId.values()
  }
}
