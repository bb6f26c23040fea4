/**
 * What the relay server reports: its counts and its events, and the seam a host uses to give up a
 * connection's raw socket.
 */
import type { Socket } from 'node:net'
import type { EndReason } from './protocol.js'

/** Counts of what the relay holds now. */
export interface RelayStats {
  reservations: number
  /** Circuits waiting for their target's ACCEPT. */
  pending: number
  /** Circuits spliced. */
  open: number
  /** Circuits ended by each reason since start. */
  ended: Record<EndReason, number>
  /** Requests refused, by error code, since start. */
  refused: Record<string, number>
}

export interface CircuitRelayEvents {
  /** A circuit was spliced: `sockets` are the dialler's and the target's ends (for stats and tests). */
  circuit: [info: { id: string; target: string; dialler: string; sockets: readonly [Socket, Socket] }]
  /** A circuit ended; `bytes` went dialler → target and back. */
  end: [info: { id: string; reason: EndReason; bytes: readonly [number, number] }]
  /** A reader fell behind: its sender is paused until `maxCircuitBuffer` drains. */
  backpressure: [info: { id: string; buffered: number }]
}

/** How the host gives up a connection's raw socket (after the line that asked for a circuit). */
export type TakeOver = () => Socket
