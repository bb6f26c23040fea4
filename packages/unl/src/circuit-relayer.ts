/**
 * `CircuitRelayer`: the Relayer on @pyp2p/relay. Dials through the relay the target's UNL names
 * (TLV_RELAY), else through the first of its own `relays` (a node's bootstrap server: most nodes of a
 * net share it); takes the circuits that arrive on its reservation, when it holds one. A UNL can name
 * a relay its node has left (the relay went away and the node's reservation moved, to the server both
 * nodes fail over to or down its `reserveAt`): when that relay cannot be reached or does not hold the
 * target's reservation, the dial tries its own first relay too.
 */
import {
  CircuitError,
  type CircuitReservation,
  circuitEndError,
  dialCircuit,
  type IncomingCircuit,
  type RelayedSocket,
} from '@pyp2p/relay'
import createDebug from 'debug'
import { DIAL_TIMEOUT_MS } from './constants.js'
import { type RelayAddress, relayOf } from './relay-extension.js'
import type { IncomingRelayed, RelayedConnection, Relayer, RelayRequest } from './relayer.js'
import type { UNL } from './unl.js'

export interface CircuitRelayerOptions {
  /** Relays to ask when the target's UNL names none (e.g. this node's bootstrap server). */
  relays?: readonly RelayAddress[]
  /** This node's reservation, whose circuits are delivered to `listen`. */
  reservation?: CircuitReservation
  /** Dialling the relay and its answer (which waits for the target's ACCEPT), ms. Default DIAL_TIMEOUT_MS. */
  timeout?: number
}

// The limit (bytes, duration) that explains a circuit's end: what it carried, how long since its OK.
const ender = (c: RelayedSocket): (() => Error | undefined) => {
  const since = Date.now()
  return () => circuitEndError(c, Date.now() - since)
}

const hostPort = (a: RelayAddress): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`

const log = createDebug('pyp2p:unl:relay')

/**
 * Failures that say the target is not (or no longer) reachable at that relay, so another relay may
 * hold its reservation: the relay is gone or unreachable, shuts down, is full, or holds no reservation
 * for the target. Not: the target did not accept, an authentication failure, a limit, an abort.
 */
const GONE_FROM_RELAY: ReadonlySet<string> = new Set([
  'ERR_CONNECT_FAILED',
  'ERR_TIMEOUT',
  'ERR_RELAY_CLOSED',
  'ERR_RELAY_FULL',
  'ERR_NO_RESERVATION',
])

export class CircuitRelayer implements Relayer {
  #relays: readonly RelayAddress[]
  readonly #timeout: number
  readonly #listeners = new Set<(c: IncomingRelayed) => void>()
  #reservation: CircuitReservation | undefined

  constructor(o: CircuitRelayerOptions = {}) {
    this.#relays = o.relays ?? []
    this.#timeout = o.timeout ?? DIAL_TIMEOUT_MS
    if (o.reservation !== undefined) this.setReservation(o.reservation)
  }

  /** The relays to ask from now on when a target's UNL names none (e.g. after a server failover). */
  setRelays(relays: readonly RelayAddress[]): void {
    this.#relays = [...relays]
  }

  /** The reservation whose circuits are ours (replacing the previous one, which is not closed here). */
  setReservation(reservation: CircuitReservation | undefined): void {
    this.#reservation?.off('incoming', this.#onIncoming)
    this.#reservation = reservation
    reservation?.on('incoming', this.#onIncoming)
  }

  get reservation(): CircuitReservation | undefined {
    return this.#reservation
  }

  unavailable(theirs: UNL): string | undefined {
    if (!theirs.hasNodeId) return 'their UNL has no node id for a relay to find them by'
    if (relayOf(theirs) === undefined && this.#relays.length === 0)
      return 'their UNL names no relay and we know none'
    return undefined
  }

  async dial({ ours, theirs, signal }: RelayRequest): Promise<RelayedConnection> {
    const named = relayOf(theirs)
    const ownFirst = this.#relays[0]
    const relays = [named ?? ownFirst!]
    if (named !== undefined && ownFirst !== undefined && hostPort(ownFirst) !== hostPort(named))
      relays.push(ownFirst)
    let first: unknown
    for (const at of relays) {
      try {
        const c = await dialCircuit({
          host: at.host,
          port: at.port,
          target: theirs.nodeId,
          nodeId: ours.nodeId,
          signal,
          timeout: this.#timeout,
        })
        return { socket: c.socket, relay: hostPort(at), circuitId: c.circuitId, endReason: ender(c) }
      } catch (err) {
        first ??= err
        log('circuit to %s through %s: %s', theirs.nodeId, hostPort(at), (err as Error).message)
        const gone = err instanceof CircuitError && GONE_FROM_RELAY.has(err.code)
        if (!gone || signal.aborted) break
      }
    }
    // The relay their UNL names says most about why (the fallback's failure is in the debug log).
    throw first
  }

  listen(onCircuit: (circuit: IncomingRelayed) => void, signal: AbortSignal): void {
    if (signal.aborted) return
    this.#listeners.add(onCircuit)
    signal.addEventListener('abort', () => this.#listeners.delete(onCircuit), { once: true })
  }

  #onIncoming = (c: IncomingCircuit): void => {
    const circuit = {
      socket: c.socket,
      relay: hostPort(c.relay),
      circuitId: c.circuitId,
      nodeId: c.dialler,
      endReason: ender(c),
    }
    if (this.#listeners.size === 0) c.socket.destroy()
    for (const fn of this.#listeners) fn(circuit)
  }
}
