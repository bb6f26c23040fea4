/**
 * The connector's relay method in one place: what the plan needs to know (a relayer, and whether it
 * can reach them), the attempt (a circuit from the Relayer, then the connector's outbound upgrade over
 * it: the handshake runs end to end, the relay sees only ciphertext), which relay each connection runs
 * through (for `ConnectResult.relay`), and the circuits others open to us.
 */
import type { Socket } from 'node:net'
import type { LineSocket } from '@pyp2p/framing'
import type { Capabilities } from './connect-plan.js'
import type { Relayer } from './relayer.js'
import type { UNL } from './unl.js'

export class RelaySide {
  readonly #relayer: Relayer | undefined
  readonly #relayed = new WeakMap<LineSocket, string>()

  constructor(relayer: Relayer | undefined) {
    this.#relayer = relayer
  }

  /** The plan's relay capabilities towards `theirs`. */
  capabilities(theirs: UNL): Pick<Capabilities, 'relay' | 'relayUnavailable'> {
    return { relay: this.#relayer !== undefined, relayUnavailable: this.#relayer?.unavailable(theirs) }
  }

  /** A circuit to `theirs`, past `upgrade` (the connector's outbound step, as for a dial). */
  async attempt(
    ours: UNL,
    theirs: UNL,
    nonce: string,
    signal: AbortSignal,
    upgrade: (socket: Socket, nonce: string, expected: string, signal: AbortSignal) => Promise<LineSocket>,
  ): Promise<LineSocket> {
    const c = await this.#relayer!.dial({ ours, theirs, signal })
    const con = await upgrade(c.socket, nonce, theirs.nodeId, signal)
    this.#relayed.set(con, c.relay)
    return con
  }

  /** The relay (`host:port`) a connection we made runs through, when it is relayed. */
  of(con: LineSocket): string | undefined {
    return this.#relayed.get(con)
  }

  /** Serves each circuit a peer opens to us (with the node id it named and the relay) until `signal`. */
  listen(serve: (socket: Socket, nodeId: string, relay: string) => void, signal: AbortSignal): void {
    this.#relayer?.listen?.(({ socket, nodeId, relay }) => serve(socket, nodeId, relay), signal)
  }
}
