/**
 * The seam for circuit relaying, like `Puncher` for hole punching: `connect()` asks an injected
 * Relayer for a raw circuit when a relay is the way (the last method), and hands the circuits others
 * open to us to `handleIncoming`. `CircuitRelayer` implements it with @pyp2p/relay; tests can inject
 * their own. The circuit is a bare socket: the connector runs its upgrade step (the end-to-end
 * handshake) over it, so the relay carries only ciphertext.
 */
import type { Socket } from 'node:net'
import type { UNL } from './unl.js'

export interface RelayRequest {
  ours: UNL
  theirs: UNL
  signal: AbortSignal
}

/** One end of a circuit, nothing read or sent on it yet. */
export interface RelayedConnection {
  socket: Socket
  /** The relay it runs through, `host:port`. */
  relay: string
  circuitId: string
  /**
   * Why the relay ended the circuit when it ends without the peer closing it (a limit: how long it
   * lived and the bytes it carried, against the relay's announced limits), or undefined.
   */
  endReason?: () => Error | undefined
}

/** A circuit a peer opened to us. */
export interface IncomingRelayed extends RelayedConnection {
  /** The node id the dialler named to the relay (the handshake must prove it). */
  nodeId: string
}

export interface Relayer {
  /** Why no circuit to `theirs` can be asked for (no relay known), or undefined when one can. */
  unavailable(theirs: UNL): string | undefined
  /** A circuit to `theirs`; rejects with its own typed error (`ERR_NO_RESERVATION`, `ERR_RELAY_FULL`...). */
  dial(request: RelayRequest): Promise<RelayedConnection>
  /** Optional: deliver the circuits peers open to us until `signal` fires (called once by the connector). */
  listen?(onCircuit: (circuit: IncomingRelayed) => void, signal: AbortSignal): void
}
