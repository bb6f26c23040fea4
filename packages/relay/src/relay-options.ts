/**
 * The relay server's limits, in one options object (libp2p circuit relay v2's model); every default
 * is a constant in constants.ts with the reason for its value.
 */
import { type Clock, systemClock } from '@pyp2p/limits'
import {
  ACCEPT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  MAX_CIRCUIT_BUFFER,
  MAX_CIRCUIT_BYTES,
  MAX_CIRCUIT_DURATION_MS,
  MAX_CIRCUITS,
  MAX_CIRCUITS_PER_IP,
  MAX_CIRCUITS_PER_TARGET,
  MAX_RESERVATIONS,
  MAX_RESERVATIONS_PER_IP,
  RESERVATION_IDLE_MS,
  SWEEP_INTERVAL_MS,
} from './constants.js'
import { CircuitError } from './errors.js'

export interface CircuitRelayOptions {
  /** Bytes per direction of one circuit. Default MAX_CIRCUIT_BYTES (8 MiB). */
  maxCircuitBytes?: number
  /** Lifetime of one circuit, ms. Default MAX_CIRCUIT_DURATION_MS (30 min). */
  maxCircuitDuration?: number
  /** Bytes held for one reader before its sender is paused. Default MAX_CIRCUIT_BUFFER (64 KiB). */
  maxCircuitBuffer?: number
  /** Reservations in all. Default MAX_RESERVATIONS (4,096). */
  maxReservations?: number
  /** Reservations from one IP. Default MAX_RESERVATIONS_PER_IP (16). One per node id always. */
  maxReservationsPerIp?: number
  /** Circuits open or waiting for their target, in all. Default MAX_CIRCUITS (1,024). */
  maxCircuits?: number
  /** Circuits to one reserved node. Default MAX_CIRCUITS_PER_TARGET (16). */
  maxCircuitsPerTarget?: number
  /** Circuits from one dialler IP. Default MAX_CIRCUITS_PER_IP (16). */
  maxCircuitsPerIp?: number
  /** The target's `ACCEPT`, ms. Default ACCEPT_TIMEOUT_MS (10 s). */
  acceptTimeout?: number
  /** A reservation's `PROVE` after `RESERVE`, ms. Default HANDSHAKE_TIMEOUT_MS (10 s). */
  handshakeTimeout?: number
  /** A reservation silent this long is dropped, ms. Default RESERVATION_IDLE_MS (90 s). */
  reservationIdle?: number
  /** How often deadlines are checked, ms (0: only when `sweep()` is called). Default 1 s. */
  sweepInterval?: number
  /** Where deadlines read the time (`manualClock()` in tests). Default `systemClock`. */
  clock?: Clock
}

export type ResolvedRelayOptions = Required<CircuitRelayOptions>

function positive(name: string, v: number | undefined, dflt: number, zero = false): number {
  const x = v ?? dflt
  if (!Number.isSafeInteger(x) || x < (zero ? 0 : 1))
    throw CircuitError.INVALID_OPTION(name, zero ? 'an integer >= 0' : 'a positive integer', x)
  return x
}

/** Defaults applied; throws `ERR_INVALID_OPTION` for a limit that is not a positive integer. */
export function resolveRelayOptions(o: CircuitRelayOptions = {}): ResolvedRelayOptions {
  return {
    maxCircuitBytes: positive('maxCircuitBytes', o.maxCircuitBytes, MAX_CIRCUIT_BYTES),
    maxCircuitDuration: positive('maxCircuitDuration', o.maxCircuitDuration, MAX_CIRCUIT_DURATION_MS),
    maxCircuitBuffer: positive('maxCircuitBuffer', o.maxCircuitBuffer, MAX_CIRCUIT_BUFFER),
    maxReservations: positive('maxReservations', o.maxReservations, MAX_RESERVATIONS),
    maxReservationsPerIp: positive('maxReservationsPerIp', o.maxReservationsPerIp, MAX_RESERVATIONS_PER_IP),
    maxCircuits: positive('maxCircuits', o.maxCircuits, MAX_CIRCUITS),
    maxCircuitsPerTarget: positive('maxCircuitsPerTarget', o.maxCircuitsPerTarget, MAX_CIRCUITS_PER_TARGET),
    maxCircuitsPerIp: positive('maxCircuitsPerIp', o.maxCircuitsPerIp, MAX_CIRCUITS_PER_IP),
    acceptTimeout: positive('acceptTimeout', o.acceptTimeout, ACCEPT_TIMEOUT_MS),
    handshakeTimeout: positive('handshakeTimeout', o.handshakeTimeout, HANDSHAKE_TIMEOUT_MS),
    reservationIdle: positive('reservationIdle', o.reservationIdle, RESERVATION_IDLE_MS),
    sweepInterval: positive('sweepInterval', o.sweepInterval, SWEEP_INTERVAL_MS, true),
    clock: o.clock ?? systemClock,
  }
}
