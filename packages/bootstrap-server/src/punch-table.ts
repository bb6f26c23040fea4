/**
 * Pending punches: a candidate asked to punch to a simultaneous node, the node was challenged, and the
 * server waits for its ACCEPT or REJECT. Every punch has the same timeout, so the Map's insertion order
 * is expiry order and the sweep walks only the expired head. The table also knows which punches each
 * connection takes part in (connections only keep the count, so they need not know what a punch is),
 * and counts pending punches per candidate IP and network prefix (@pyp2p/limits' `FairTable`), so one
 * address block cannot fill the table however many connections it opens.
 */
import { FairTable, type FairTableOptions, type NetworkKeys, type RefusedBy } from '@pyp2p/limits'
import { type InboundPolicy, PUNCH_ID_HEX_LENGTH } from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import { RandomIds } from './random-ids.js'

/** An `ACCEPT` whose `FIGHT` waits for a round-trip measurement (see fight-delay.ts, FIGHT_HOLD_MS). */
export interface HeldAccept {
  /** The target's ports from its `ACCEPT`. */
  readonly ports: readonly number[]
  /** Sends the `FIGHT` anyway when the measurement does not come in time. */
  readonly timer: NodeJS.Timeout
}

/**
 * One side of a punch as the table and the punch commands use it: a `Connection`, or (scale-out) a
 * candidate connected to another instance (cluster/remote-end.ts, `remote: true`).
 */
export interface PunchEnd {
  readonly ip: string
  /**
   * Where the limits count `ip`, when known already (a `Connection`'s, computed at accept with the
   * server's prefix lengths, the same as the punch table's): saves parsing the address per punch.
   */
  readonly keys?: NetworkKeys | undefined
  readonly isOpen: boolean
  readonly nodes: string[] | undefined
  /** Set on a candidate connected to another instance. */
  readonly remote?: true
  rtt: number
  pingToken: string | undefined
  punchCount: number
  started: number
  send(line: string): boolean
  sendError(code: string, text: string, punchId?: string): void
}

export interface Punch {
  readonly id: string
  readonly candidate: PunchEnd
  readonly candidateNodeId: string
  readonly candidatePorts: readonly number[]
  readonly target: Connection
  readonly targetNodeId: string
  /** When it was created, on the server's clock. */
  readonly createdAt: number
  /** Set once the target accepted while an RTT was still being measured; the punch stays pending. */
  held?: HeldAccept | undefined
}

const NONE: ReadonlySet<Punch> = new Set()

/** Why a new punch from an address is refused: which limit, and the IP or prefix at it. */
export interface PunchRefusal {
  readonly refusedBy: RefusedBy
  readonly key: string
  readonly limit: number
  /** The candidate's network prefix. */
  readonly prefix: string
}

/** No limit beyond the per-target and per-connection ones (tables built without options). */
const UNBOUNDED: FairTableOptions = {
  capacity: Number.MAX_SAFE_INTEGER,
  maxPerIp: Number.MAX_SAFE_INTEGER,
  maxPerPrefix: Number.MAX_SAFE_INTEGER,
}

export class PunchTable {
  readonly #byId = new Map<string, Punch>()
  /** Pending punches per target node id (pyp2p: at most 100 candidates per node). */
  readonly #perTarget = new Map<string, number>()
  /** Pending punches per connection, as candidate or target; only connections that have some. */
  readonly #byConn = new Map<PunchEnd, Set<Punch>>()
  /** What each connection declared with `INBOUND` (gone with the connection). */
  readonly #inbound = new WeakMap<PunchEnd, InboundPolicy>()
  /** Pending punches per candidate IP and prefix, and in total. */
  readonly #counts: FairTable<Punch>

  constructor(limits: FairTableOptions = UNBOUNDED) {
    this.#counts = new FairTable(limits)
  }

  readonly #ids = new RandomIds(PUNCH_ID_HEX_LENGTH)

  /**
   * Why a new punch started from `from` (an address, or its keys with this table's prefix lengths)
   * would be over a limit (total, per IP, per prefix), if it would.
   */
  refusal(from: string | NetworkKeys): PunchRefusal | undefined {
    const a = this.#counts.admit(from)
    if (a.ok) return undefined
    return { refusedBy: a.refusedBy, key: a.key, limit: a.limit, prefix: a.keys.prefix }
  }

  get size(): number {
    return this.#byId.size
  }

  get(id: string): Punch | undefined {
    return this.#byId.get(id)
  }

  countFor(targetNodeId: string): number {
    return this.#perTarget.get(targetNodeId) ?? 0
  }

  /** A copy of the punches `conn` takes part in (safe to delete from while iterating). */
  of(conn: PunchEnd): Punch[] {
    return [...(this.#byConn.get(conn) ?? NONE)]
  }

  /** The pending punch from this candidate node to this target, if any (pyp2p replaced such a one). */
  findPair(candidateNodeId: string, target: Connection): Punch | undefined {
    for (const p of this.#byConn.get(target) ?? NONE) {
      if (p.target === target && p.candidateNodeId === candidateNodeId) return p
    }
    return undefined
  }

  setInbound(conn: PunchEnd, policy: InboundPolicy): void {
    this.#inbound.set(conn, policy)
  }

  inboundOf(conn: PunchEnd): InboundPolicy | undefined {
    return this.#inbound.get(conn)
  }

  /** Keeps an accepted punch pending until `release` runs (by `hold`'s timer or by the caller). */
  hold(punch: Punch, ports: readonly number[], ms: number, release: () => void): void {
    const timer = setTimeout(release, ms)
    timer.unref()
    punch.held = { ports, timer }
  }

  create(fields: Omit<Punch, 'id' | 'held'>): Punch {
    let id = this.#ids.next()
    while (this.#byId.has(id)) id = this.#ids.next()
    // One literal (not a spread of `fields`): every punch gets the same shape, held included.
    const punch: Punch = {
      id,
      candidate: fields.candidate,
      candidateNodeId: fields.candidateNodeId,
      candidatePorts: fields.candidatePorts,
      target: fields.target,
      targetNodeId: fields.targetNodeId,
      createdAt: fields.createdAt,
      held: undefined,
    }
    this.#byId.set(id, punch)
    const { candidate, target } = punch
    this.#counts.add(punch, candidate.keys ?? this.#counts.keysOf(candidate.ip))
    this.#perTarget.set(punch.targetNodeId, this.countFor(punch.targetNodeId) + 1)
    this.#join(candidate, punch)
    this.#join(target, punch)
    candidate.started++
    return punch
  }

  #join(conn: PunchEnd, punch: Punch): void {
    let set = this.#byConn.get(conn)
    if (set === undefined) {
      set = new Set()
      this.#byConn.set(conn, set)
    }
    set.add(punch)
    conn.punchCount = set.size
  }

  #leave(conn: PunchEnd, punch: Punch): void {
    const set = this.#byConn.get(conn)
    set?.delete(punch)
    conn.punchCount = set?.size ?? 0
    if (conn.punchCount === 0) this.#byConn.delete(conn)
  }

  /** Forgets the punch everywhere it is referenced. Returns whether it was pending. */
  delete(punch: Punch): boolean {
    if (!this.#byId.delete(punch.id)) return false
    if (punch.held !== undefined) clearTimeout(punch.held.timer)
    this.#counts.delete(punch)
    const n = this.countFor(punch.targetNodeId) - 1
    if (n <= 0) this.#perTarget.delete(punch.targetNodeId)
    else this.#perTarget.set(punch.targetNodeId, n)
    this.#leave(punch.candidate, punch)
    this.#leave(punch.target, punch)
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
