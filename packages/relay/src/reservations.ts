/**
 * Who holds a reservation (a live, authenticated control connection): one per node id (a newer one
 * replaces the older), bounded in all and per IP; and the challenges waiting for their `PROVE`.
 */
import { randomBytes } from 'node:crypto'
import { nodeIdFromPublicKey, verify } from '@pyp2p/identity'
import type { FairTable } from '@pyp2p/limits'
import { CHALLENGE_BYTES, RESERVE_CONTEXT } from './constants.js'
import { CircuitError } from './errors.js'
import { ipTable, keysOf } from './ip-table.js'
import type { ResolvedRelayOptions } from './relay-options.js'

/** A line connection the relay talks to (bootstrap-server's `ServiceConnection` fits). */
export interface ControlConnection {
  readonly ip: string
  readonly isOpen: boolean
  send(line: string): boolean
  /** Ends the connection, after `ERROR <code> <text>` when a code is given. */
  close(code?: string, text?: string): void
  /** While held, the host's idle timeout does not apply. */
  hold?(held: boolean): void
}

export interface Reservation {
  readonly nodeId: string
  readonly conn: ControlConnection
  /** Last line from it (clock ms). */
  lastSeen: number
  /** Circuits to it, open or waiting. */
  circuits: number
}

interface Challenge {
  nodeId: string
  nonce: string
  since: number
}

export class Reservations {
  readonly #o: ResolvedRelayOptions
  readonly #byNode = new Map<string, Reservation>()
  readonly #byConn = new Map<ControlConnection, Reservation>()
  readonly #challenges = new Map<ControlConnection, Challenge>()
  /** Reservations by connection, bounded in all and per IP. */
  readonly #perIp: FairTable<ControlConnection>

  constructor(options: ResolvedRelayOptions) {
    this.#o = options
    this.#perIp = ipTable(options.maxReservations, options.maxReservationsPerIp)
  }

  get size(): number {
    return this.#byNode.size
  }

  get(nodeId: string): Reservation | undefined {
    return this.#byNode.get(nodeId)
  }

  of(conn: ControlConnection): Reservation | undefined {
    return this.#byConn.get(conn)
  }

  /** A fresh challenge for `RESERVE <node-id>` on `conn`; returns the nonce. */
  challenge(conn: ControlConnection, nodeId: string): string {
    if (this.#byConn.has(conn)) throw CircuitError.PROTOCOL('this connection already holds a reservation')
    const nonce = randomBytes(CHALLENGE_BYTES).toString('base64url')
    this.#challenges.set(conn, { nodeId, nonce, since: this.#o.clock.now() })
    return nonce
  }

  /**
   * `PROVE`: the key hashes to the node id and signed this connection's challenge. Checks the limits
   * (a reservation replacing one of the same node id is always admitted) and records it; returns the
   * reservation it replaced, if any. Throws ERR_PROTOCOL, ERR_AUTH_FAILED or ERR_RELAY_FULL.
   */
  prove(
    conn: ControlConnection,
    publicKey: string,
    signature: string,
  ): { added: Reservation; replaced?: Reservation } {
    const c = this.#challenges.get(conn)
    if (c === undefined) throw CircuitError.PROTOCOL('PROVE without RESERVE')
    this.#challenges.delete(conn)
    if (!verify(publicKey, RESERVE_CONTEXT, [c.nonce, c.nodeId], signature) || !ownsId(publicKey, c.nodeId))
      throw CircuitError.AUTH_FAILED('the key does not prove the node id, or the signature is wrong')
    const replaced = this.#byNode.get(c.nodeId)
    const keys = keysOf(this.#perIp, conn.ip)
    if (replaced === undefined) {
      if (this.#byNode.size >= this.#o.maxReservations)
        throw CircuitError.RELAY_FULL('reservations', this.#o.maxReservations)
      if (!this.#perIp.admit(keys).ok)
        throw CircuitError.RELAY_FULL('reservations per IP', this.#o.maxReservationsPerIp)
    } else {
      this.remove(replaced.conn)
    }
    const added: Reservation = { nodeId: c.nodeId, conn, lastSeen: this.#o.clock.now(), circuits: 0 }
    this.#byNode.set(c.nodeId, added)
    this.#byConn.set(conn, added)
    this.#perIp.add(conn, keys)
    return replaced === undefined ? { added } : { added, replaced }
  }

  /** Forgets whatever `conn` held (a reservation or a challenge). Returns the reservation, if any. */
  remove(conn: ControlConnection): Reservation | undefined {
    this.#challenges.delete(conn)
    const r = this.#byConn.get(conn)
    if (r === undefined) return undefined
    this.#byConn.delete(conn)
    if (this.#byNode.get(r.nodeId) === r) this.#byNode.delete(r.nodeId)
    this.#perIp.delete(conn)
    return r
  }

  /** Challenges older than the handshake timeout, and reservations silent past the idle limit. */
  *expired(now: number): Generator<{ conn: ControlConnection; why: string }> {
    for (const [conn, c] of this.#challenges)
      if (now - c.since >= this.#o.handshakeTimeout) yield { conn, why: 'no PROVE in time' }
    for (const r of this.#byConn.values())
      if (now - r.lastSeen >= this.#o.reservationIdle) yield { conn: r.conn, why: 'reservation idle' }
  }

  all(): IterableIterator<Reservation> {
    return this.#byNode.values()
  }
}

function ownsId(publicKey: string, nodeId: string): boolean {
  try {
    return nodeIdFromPublicKey(publicKey) === nodeId
  } catch {
    return false
  }
}
