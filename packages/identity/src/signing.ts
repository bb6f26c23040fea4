/**
 * Domain-separated Ed25519 signatures: what is signed always names its purpose, so a signature made
 * for one purpose (a rendezvous registration, a secure-session key) never verifies for another.
 *
 * Signed bytes: `SIGNATURE_DOMAIN` | u8 context length | context | the data. The data is either bytes,
 * or a list of fields, each prefixed by its u32 big-endian length, so `['ab', 'c']` and `['a', 'bc']`
 * sign different bytes.
 */

import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import { ED25519_SIGNATURE_BYTES, MAX_CONTEXT_LENGTH, SIGNATURE_DOMAIN } from './constants.js'
import { IdentityError } from './errors.js'
import { parsePublicKey, publicKeyObject } from './keys.js'

/** What `sign()` signs: bytes, or fields (strings are UTF-8) joined without ambiguity. */
export type SignedData = Uint8Array | string | readonly (Uint8Array | string)[]

const CONTEXT_RE = /^[\x21-\x7e]+$/
const DOMAIN = Buffer.from(SIGNATURE_DOMAIN, 'latin1')

/** Throws `ERR_INVALID_CONTEXT` unless `context` is 1-255 printable ASCII characters without spaces. */
export function checkContext(context: unknown): asserts context is string {
  if (typeof context !== 'string') throw IdentityError.INVALID_CONTEXT('not a string')
  if (context.length === 0 || context.length > MAX_CONTEXT_LENGTH)
    throw IdentityError.INVALID_CONTEXT(`length ${context.length}`)
  if (!CONTEXT_RE.test(context)) throw IdentityError.INVALID_CONTEXT('not printable ASCII without spaces')
}

function toBytes(part: Uint8Array | string): Uint8Array {
  return typeof part === 'string' ? Buffer.from(part, 'utf8') : part
}

/** The exact bytes `sign(context, data)` signs (exported for tests and other implementations). */
export function signedBytes(context: string, data: SignedData): Buffer {
  checkContext(context)
  // One allocation, sized first: this runs for every signature a server checks.
  const single = typeof data === 'string' || data instanceof Uint8Array
  const parts = single ? [toBytes(data)] : data.map(toBytes)
  let length = DOMAIN.length + 1 + context.length
  for (const part of parts) length += part.length + (single ? 0 : 4)
  const out = Buffer.allocUnsafe(length)
  let at = DOMAIN.copy(out, 0)
  at = out.writeUInt8(context.length, at)
  at += out.write(context, at, 'latin1')
  for (const part of parts) {
    if (!single) at = out.writeUInt32BE(part.length, at)
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Signs `data` for `context` with a private key object (used by `NodeIdentity#sign`). */
export function signWith(privateKey: KeyObject, context: string, data: SignedData): Buffer {
  return edSign(null, signedBytes(context, data), privateKey)
}

/**
 * Whether `signature` is the signature of `publicKey` over `data` for `context`. Never throws for a
 * malformed key or signature (false); throws `ERR_INVALID_CONTEXT` for a bad context (a caller bug).
 * Key and signature may be bytes or base64url. Each call imports the key anew: a server checking
 * many signatures uses a `Verifier`, which keeps recently used keys.
 */
export function verify(
  publicKey: string | Uint8Array,
  context: string,
  data: SignedData,
  signature: string | Uint8Array,
): boolean {
  const message = signedBytes(context, data)
  let key: Buffer
  try {
    key = parsePublicKey(publicKey)
  } catch {
    return false
  }
  const sig = signatureBytes(signature)
  if (sig === null) return false
  try {
    return edVerify(null, message, publicKeyObject(key), sig)
  } catch {
    return false
  }
}

/** A signature's 64 bytes from bytes or base64url (one spelling only); `null` when it is neither. */
export function signatureBytes(signature: string | Uint8Array): Uint8Array | null {
  const sig = typeof signature === 'string' ? decodeSignature(signature) : signature
  return sig === null || sig.length !== ED25519_SIGNATURE_BYTES ? null : sig
}

const SIGNATURE_RE = /^[A-Za-z0-9_-]{86}$/

function decodeSignature(text: string): Buffer | null {
  if (!SIGNATURE_RE.test(text)) return null
  const bytes = Buffer.from(text, 'base64url')
  return bytes.toString('base64url') === text ? bytes : null
}
