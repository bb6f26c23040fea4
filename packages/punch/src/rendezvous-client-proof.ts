/**
 * What a {@link RendezvousClient}'s connection has proven (PROTOCOL.md of @pyp2p/rendezvous-protocol,
 * "Proofs" and "Proven connections"). Commands acting as the node id are signed (command-proof.ts) until
 * one signed command has succeeded on a server whose `HELLO` said `proofs=connection`: that server has
 * bound the id to this connection, and later commands go unsigned (an Ed25519 signature less for the
 * node, a verification less for the server). An older server gets a proof on every command.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import type { ClientMessage } from '@pyp2p/rendezvous-protocol'
import { type ProofBinding, withProof } from './command-proof.js'

/** What a connection's `HELLO` said about proofs. */
export interface HelloProofs extends ProofBinding {
  /** `proofs=connection`: a proof holds for the rest of the connection. */
  readonly connectionProofs?: true | undefined
}

export class ConnectionProof {
  readonly #identity: NodeIdentity | undefined
  readonly #hello: HelloProofs
  #proven = false

  constructor(identity: NodeIdentity | undefined, hello: HelloProofs) {
    this.#identity = identity
    this.#hello = { nonce: hello.nonce, serverId: hello.serverId, connectionProofs: hello.connectionProofs }
  }

  /** Whether the server asked for proofs (its `HELLO` carried a nonce and a server id). */
  get asked(): boolean {
    return this.#hello.nonce !== undefined && this.#hello.serverId !== undefined
  }

  /** Whether the server holds the node id proven on this connection (commands as it go unsigned). */
  get proven(): boolean {
    return this.#proven
  }

  /** `msg` as it goes on the wire: signed when it acts as the node id and the connection is not proven. */
  outgoing(msg: ClientMessage): ClientMessage {
    return this.#proven ? msg : withProof(msg, this.#identity, this.#hello)
  }

  /**
   * `out` (from {@link outgoing} of `msg`) got a reply that is not an `ERROR`: a proof it carried was
   * valid, and a server that binds proofs to connections now holds the id proven here.
   */
  succeeded(msg: ClientMessage, out: ClientMessage): void {
    if (out !== msg && this.#hello.connectionProofs === true) this.#proven = true
  }
}
