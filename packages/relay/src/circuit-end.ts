/**
 * Why a circuit ended, as one end can tell: the relay cannot put a reason line into a circuit (the
 * ends' bytes are an encrypted stream), so each end compares what the circuit carried and how long it
 * lived with the limits the relay announced in its `OK`. The target also hears `CIRCUIT END <id>
 * <reason>` over its reservation (`CircuitReservation` event `end`).
 */
import { CIRCUIT_END_SLACK_MS } from './constants.js'
import { CircuitError } from './errors.js'
import type { RelayedSocket } from './relay-dial.js'

/** `ERR_CIRCUIT_LIMIT` (bytes or duration) when a limit explains the end, else undefined. */
export function circuitEndError(c: RelayedSocket, livedMs: number): CircuitError | undefined {
  const read = c.socket.bytesRead - c.offset.read
  const written = c.socket.bytesWritten - c.offset.written
  const { maxBytes, maxDurationMs } = c.limits
  if (read >= maxBytes || written > maxBytes) return CircuitError.CIRCUIT_LIMIT('bytes', maxBytes)
  // An end counts from the OK it read, a round trip after the relay started the circuit's clock.
  if (livedMs + CIRCUIT_END_SLACK_MS >= maxDurationMs)
    return CircuitError.CIRCUIT_LIMIT('duration', maxDurationMs)
  return undefined
}
