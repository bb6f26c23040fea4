/**
 * Signing the commands that need proof of node-id ownership (issue 17): `PASSIVE|SIMULTANEOUS READY`,
 * `CLEAR <node-id> <clear-token>` and `CANDIDATE` carry `SIG <public-key> <signature>`, the node's
 * signature over the connection's `HELLO` nonce, the server's id and the command line
 * (PROTOCOL.md of @pyp2p/rendezvous-protocol, "Proofs").
 */
import type { NodeIdentity } from '@pyp2p/identity'
import {
  type ClientMessage,
  formatClientMessage,
  proofFields,
  RENDEZVOUS_SIGNATURE_CONTEXT,
} from '@pyp2p/rendezvous-protocol'

/** What a connection's `HELLO` said about proofs; both absent from a server that predates them. */
export interface ProofBinding {
  readonly nonce?: string | undefined
  readonly serverId?: string | undefined
}

/**
 * `msg` with a proof when it is a command that needs one, acts as this identity's node id, and the
 * server asked for proofs (its `HELLO` has a nonce); otherwise `msg` unchanged (an older server would
 * refuse the extra words, and a server that needs a proof says so with `ERR_SIGNATURE_REQUIRED`).
 */
export function withProof(
  msg: ClientMessage,
  identity: NodeIdentity | undefined,
  binding: ProofBinding,
): ClientMessage {
  if (identity === undefined || binding.nonce === undefined || binding.serverId === undefined) return msg
  if (msg.type !== 'READY' && msg.type !== 'CANDIDATE' && msg.type !== 'CLEAR') return msg
  if (msg.proof !== undefined || msg.nodeId !== identity.nodeId) return msg
  const fields = proofFields(binding.nonce, binding.serverId, formatClientMessage(msg))
  const signature = identity.sign(RENDEZVOUS_SIGNATURE_CONTEXT, fields).toString('base64url')
  return { ...msg, proof: { publicKey: identity.publicKey, signature } }
}
