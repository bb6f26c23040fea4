/**
 * Proof of node-id ownership (issue 17): every connection gets a fresh nonce in its `HELLO`, and a
 * command that lists, replaces or clears a node id, or names one as a punch candidate, may carry
 * `SIG <public-key> <signature>` — the node's Ed25519 signature over that nonce, this server's id and
 * the command (PROTOCOL.md of @pyp2p/rendezvous-protocol, "Proofs"). The key must hash to the node id.
 *
 * The nonce is HMAC(per-process secret, connection id), so it is unpredictable, never repeats within
 * or across processes, and costs no bytes per connection (at 19,000 connections every field counts).
 *
 * Keys are checked through one `Verifier` per server (@pyp2p/identity): a node's key is imported and
 * hashed once while it stays among the `maxKeys` most recently used, not at every signed command.
 */
import { createHmac, randomBytes } from 'node:crypto'
import { Verifier, type VerifierOptions, type VerifierStats } from '@pyp2p/identity'
import {
  formatClientMessage,
  HELLO_CONNECTION_PROOFS_WORD,
  HELLO_NONCE_PREFIX,
  HELLO_SERVER_PREFIX,
  proofFields,
  RENDEZVOUS_SIGNATURE_CONTEXT,
  type SignableMessage,
  withoutProof,
} from '@pyp2p/rendezvous-protocol'
import type { Connection } from './connection.js'
import { HELLO_NONCE_BYTES, RANDOM_SERVER_ID_BYTES } from './constants.js'

/** A server id when none is configured: random per process, so a proof made here holds nowhere else. */
export function randomServerId(): string {
  return randomBytes(RANDOM_SERVER_ID_BYTES).toString('base64url')
}

export class Ownership {
  /** The id announced as `server=<id>` and signed by every proof. */
  readonly serverId: string
  readonly #secret = randomBytes(32)
  readonly #verifier: Verifier

  constructor(serverId: string, verifier: VerifierOptions = {}) {
    this.serverId = serverId
    this.#verifier = new Verifier(verifier)
  }

  /** The key cache's size and hit counters. */
  keyStats(): VerifierStats {
    return this.#verifier.stats()
  }

  /** The nonce of connection `connId` (the same every time it is asked). */
  nonceOf(connId: number): string {
    return createHmac('sha256', this.#secret)
      .update(String(connId))
      .digest()
      .subarray(0, HELLO_NONCE_BYTES)
      .toString('base64url')
  }

  /**
   * The words the `HELLO` of connection `connId` carries: ` nonce=<nonce> server=<id> proofs=connection`
   * (a proof binds its node id to the connection: see {@link bindProven}).
   */
  helloWords(connId: number): string {
    return ` ${HELLO_NONCE_PREFIX}${this.nonceOf(connId)} ${HELLO_SERVER_PREFIX}${this.serverId} ${HELLO_CONNECTION_PROOFS_WORD}`
  }

  /**
   * Why the proof on `msg`, received on connection `connId`, does not hold; `undefined` when it does
   * (or when there is none: the handlers decide whether one is required).
   */
  refusal(connId: number, msg: SignableMessage): string | undefined {
    const { proof } = msg
    if (proof === undefined) return undefined
    const nodeId = msg.nodeId
    let keyId: string
    try {
      keyId = this.#verifier.nodeIdOf(proof.publicKey)
    } catch {
      return 'the public key is not an Ed25519 key'
    }
    if (keyId !== nodeId) return `the public key's node id is ${keyId}, not ${nodeId}`
    const line = formatClientMessage(withoutProof(msg))
    const fields = proofFields(this.nonceOf(connId), this.serverId, line)
    if (!this.#verifier.verify(proof.publicKey, RENDEZVOUS_SIGNATURE_CONTEXT, fields, proof.signature)) {
      return "the signature does not verify over this connection's nonce, this server's id and this command"
    }
    return undefined
  }
}

/**
 * A valid proof for `nodeId` arrived on `conn`: from now on its commands acting as `nodeId` count as
 * proven (PROTOCOL.md, "Proven connections"). One id per connection, the last proven: a client signs
 * for its own id only. The id is copied, since a parsed id is a slice that keeps its whole line alive.
 */
export function bindProven(conn: Connection, nodeId: string): void {
  if (conn.provenId !== nodeId) conn.provenId = Buffer.from(nodeId, 'latin1').toString('latin1')
}
