/**
 * The circuit-relay reservation of a node others cannot dial (relaying.ts): made at the first of its
 * candidates that grants one, kept while its relay restarts (the reservation heals itself), and moved
 * when its relay is gone: to the server the bootstrap session fails over to (a node that reserves at
 * its bootstrap server, no `reserveAt`), or to another relay of `reserveAt` once
 * RESERVATION_MOVE_AFTER_FAILURES reconnects failed. Each move calls `onMoved`; the node's UNL then
 * names the new relay.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import type { RendezvousSession } from '@pyp2p/punch'
import { CircuitError, CircuitReservation, type ReservationState } from '@pyp2p/relay'
import type { CircuitRelayer } from '@pyp2p/unl'
import type createDebug from 'debug'
import { RESERVATION_MOVE_AFTER_FAILURES } from './constants.js'
import { hostPort } from './relay-host.js'

export type Address = { host: string; port: number }

export interface ReservationKeeperOptions {
  identity: NodeIdentity
  /** One reservation attempt, ms. */
  timeout: number
  relayer: CircuitRelayer
  /** `circuitRelay.reserveAt`; empty: the node reserves at its bootstrap server and follows it. */
  reserveAt: readonly Address[]
  /** The relayer's own relay follows our reservation's moves (a node without a bootstrap server). */
  relaysFollow: boolean
  /** False for a node others can dial (passive): it holds no reservation, only its relayer follows. */
  reserves: boolean
  log: createDebug.Debugger
}

const same = (x: Address, y: Address | undefined): boolean => x.host === y?.host && x.port === y.port

export class ReservationKeeper {
  readonly #o: ReservationKeeperOptions
  readonly #closing = new AbortController()
  #reservation: CircuitReservation | undefined
  #at: Address | undefined
  /** What a back-off does, given the failed reconnects so far (set by `follow`). */
  #onFailure: ((failures: number) => void) | undefined
  #onMoved: ((from: Address | undefined, to: Address) => void) | undefined
  /** The move under way: a newer one aborts it. */
  #moving: AbortController | undefined

  constructor(o: ReservationKeeperOptions) {
    this.#o = o
  }

  /** Where we hold our reservation, when we do. */
  get at(): Address | undefined {
    return this.#at
  }

  /**
   * Reserves at the first of `candidates` that grants one (`signal` bounds the attempts, not the
   * reservation); one sentence per candidate tried, for the start report. Throws if `signal` aborts.
   */
  async reserve(candidates: readonly Address[], signal: AbortSignal): Promise<string[]> {
    const reasons: string[] = []
    for (const candidate of candidates) {
      try {
        this.#hold(await this.#open(candidate, signal), candidate)
      } catch (err) {
        if (signal.aborted) throw err
        this.#o.log('no relay reservation at %s: %s', hostPort(candidate), (err as Error).message)
        reasons.push(`circuit relay: no reservation at ${hostPort(candidate)}: ${(err as Error).message}`)
        continue
      }
      reasons.push(`circuit relay: reserved at ${hostPort(candidate)}`)
      break
    }
    return reasons
  }

  /**
   * Keeps the reservation where others can find it from now on, calling `onMoved` after each move:
   * when `session` fails over to another server, circuits to targets whose UNL names no relay go
   * through that server's relay and a reservation at the bootstrap server moves there; a relay of
   * `reserveAt` that stays gone is left for another of the list that grants a reservation. A
   * reservation nowhere else granted stays (it heals when its relay is back). Ends with `close()`.
   */
  follow(
    session: RendezvousSession | undefined,
    onMoved: (from: Address | undefined, to: Address) => void,
  ): void {
    if (this.#closing.signal.aborted || this.#onMoved !== undefined) return
    this.#onMoved = onMoved
    const { reserveAt } = this.#o
    if (reserveAt.length > 1) {
      this.#onFailure = (n) => {
        if (n >= RESERVATION_MOVE_AFTER_FAILURES && this.#moving === undefined)
          void this.#moveTo(
            reserveAt.filter((c) => !same(c, this.#at)),
            true,
          )
      }
    } else if (reserveAt.length === 0 && session !== undefined) {
      // A session without a registration (an active node's) does not reconnect by itself: while our
      // reservation at its server backs off, open it again (to the next server that answers
      // if this one is gone: a failover, below). A registered session reconnects on its own back-off.
      this.#onFailure = (n) => {
        if (this.#closed) return
        if (session.registration === undefined && session.client === undefined)
          session.open({ signal: this.#closing.signal }).catch((err: unknown) => {
            this.#o.log('bootstrap session not reopened: %s', (err as Error).message)
          })
        // The session is elsewhere and the move there failed (refused, or not up yet): try again.
        const server = session.server
        if (
          n >= RESERVATION_MOVE_AFTER_FAILURES &&
          this.#moving === undefined &&
          server !== undefined &&
          session.client !== undefined &&
          !same(server, this.#at)
        )
          void this.#moveTo([{ host: server.host, port: server.port }], true)
      }
    }
    if (session === undefined) return
    const onFailover = (): void => {
      const to = session.server
      if (to === undefined || this.#closed) return
      const where = { host: to.host, port: to.port }
      this.#o.relayer.setRelays([where])
      if (reserveAt.length > 0 || !this.#o.reserves) return
      // Already there and not given up (a failover back to where our reservation healed): stay,
      // and stop a move elsewhere still under way.
      if (same(where, this.#at) && this.#reservation?.state !== 'closed') {
        this.#moving?.abort()
        return
      }
      void this.#moveTo([where])
    }
    session.on('server:failover', onFailover)
    this.#closing.signal.addEventListener('abort', () => session.off('server:failover', onFailover))
  }

  /** Leaves the reservation and stops any move. Idempotent. */
  close(): void {
    this.#closing.abort()
    this.#moving?.abort()
    this.#reservation?.close()
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted
  }

  /** A reservation at `where`; `bound` ends the attempt (not the reservation), as `close()` does. */
  async #open(where: Address, bound: AbortSignal): Promise<CircuitReservation> {
    const identity = this.#o.identity
    const r = await CircuitReservation.open({ ...where, identity, signal: bound, timeout: this.#o.timeout })
    if (bound.aborted || this.#closed) {
      r.close()
      throw bound.aborted ? bound.reason : CircuitError.CLOSED()
    }
    return r
  }

  #hold(r: CircuitReservation, where: Address): void {
    this.#reservation = r
    this.#at = where
    this.#o.relayer.setReservation(r)
    r.on('warning', (e) => this.#o.log('relay reservation: %s', e.message))
    let previous: ReservationState = r.state
    /** Failed reconnects since the reservation was last granted. */
    let failures = 0
    r.on('state', (state) => {
      this.#o.log('relay reservation at %s: %s', hostPort(where), state)
      const failed = state === 'backing-off' && previous === 'connecting'
      previous = state
      if (state === 'reserved') failures = 0
      if (failed) failures++
      // The first back-off follows the drop itself; each later one, a reconnect that failed.
      if (state === 'backing-off' && r === this.#reservation) this.#onFailure?.(failures)
    })
  }

  /**
   * Reserves at the first of `targets` that grants it, then leaves the old reservation; with
   * `unlessHealed`, keeps the old one instead if it was granted again meanwhile (its relay is back).
   */
  async #moveTo(targets: readonly Address[], unlessHealed = false): Promise<void> {
    this.#moving?.abort()
    const mine = new AbortController()
    this.#moving = mine
    try {
      for (const to of targets) {
        let next: CircuitReservation
        try {
          next = await this.#open(to, mine.signal)
        } catch (err) {
          if (mine.signal.aborted || this.#closed) return
          this.#o.log('no relay reservation at %s: %s', hostPort(to), (err as Error).message)
          continue
        }
        const old = this.#reservation
        if (mine.signal.aborted || this.#closed || (unlessHealed && old?.state === 'reserved')) {
          next.close()
          return
        }
        const from = this.#at
        this.#hold(next, to)
        old?.close()
        if (this.#o.relaysFollow) this.#o.relayer.setRelays([to])
        this.#o.log('relay reservation moved from %s to %s', from ? hostPort(from) : 'none', hostPort(to))
        try {
          this.#onMoved?.(from, to)
        } catch (err) {
          this.#o.log('relay:moved listener threw: %s', (err as Error).message)
        }
        return
      }
    } finally {
      if (this.#moving === mine) this.#moving = undefined
    }
  }
}
