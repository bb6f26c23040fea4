/**
 * Proofs of node-id ownership on the wire: the `SIG <public-key> <signature>` suffix of a signed command,
 * and what exactly is signed. Form only; verifying is the server's job (with `@pyp2p/identity`), signing
 * the client's. PROTOCOL.md, "Proofs", is the specification.
 */
import { PROOF_WORD } from './constants.js'
import type { ClientMessage } from './messages.js'
import type { Proof } from './proof-types.js'

// 32 bytes in 43 base64url characters leave the last character's 2 low bits zero; 64 bytes in 86 leave
// 4. Requiring those zeros gives every key and signature exactly one spelling.
const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const SIGNATURE_RE = /^[A-Za-z0-9_-]{85}[AQgw]$/

/** A raw Ed25519 public key in canonical base64url (43 characters). */
export function isPublicKey(s: unknown): s is string {
  return typeof s === 'string' && PUBLIC_KEY_RE.test(s)
}

/** An Ed25519 signature in canonical base64url (86 characters). */
export function isSignature(s: unknown): s is string {
  return typeof s === 'string' && SIGNATURE_RE.test(s)
}

/** Whether `value` is a {@link Proof} with a well-formed key and signature. */
export function isProof(value: unknown): value is Proof {
  if (typeof value !== 'object' || value === null) return false
  const p = value as { publicKey?: unknown; signature?: unknown }
  return isPublicKey(p.publicKey) && isSignature(p.signature)
}

/** The messages that may carry a proof: the ones that list, replace or clear an id, or punch as one. */
export type SignableMessage = Extract<ClientMessage, { type: 'READY' | 'CLEAR' | 'CANDIDATE' }>

/** The commands whose line may end in a proof (first words). */
export const SIGNABLE_COMMANDS: ReadonlySet<string> = new Set([
  'PASSIVE',
  'SIMULTANEOUS',
  'CLEAR',
  'CANDIDATE',
])

/**
 * Splits the proof off a line's words: `[..., 'SIG', key, sig]` → the words before it and the proof.
 * `undefined` proof when the third-last word is not `SIG`; a `SIG` with a malformed key or signature
 * returns `'malformed'`.
 */
export function splitProof(words: readonly string[]): {
  words: readonly string[]
  proof: Proof | undefined | 'malformed'
} {
  const at = words.length - 3
  if (at < 1 || words[at] !== PROOF_WORD) {
    return { words, proof: words.includes(PROOF_WORD) ? 'malformed' : undefined }
  }
  const publicKey = words[at + 1]
  const signature = words[at + 2]
  if (!isPublicKey(publicKey) || !isSignature(signature)) return { words, proof: 'malformed' }
  return { words: words.slice(0, at), proof: { publicKey, signature } }
}

/**
 * What a proof signs, as `@pyp2p/identity`'s u32-length-prefixed fields under the context
 * `RENDEZVOUS_SIGNATURE_CONTEXT`: the `HELLO` nonce of the connection, the server id from the same
 * `HELLO`, and the command line without its proof exactly as `formatClientMessage` writes it (so the
 * signature cannot be used on another connection, at another server, or for another command).
 */
export function proofFields(nonce: string, serverId: string, unsignedLine: string): readonly string[] {
  return [nonce, serverId, unsignedLine]
}

/** The message without its proof (what `formatClientMessage` turns into the signed line). */
export function withoutProof<M extends SignableMessage>(msg: M): M {
  if (msg.proof === undefined) return msg
  const { proof: _proof, ...rest } = msg
  return rest as M
}
