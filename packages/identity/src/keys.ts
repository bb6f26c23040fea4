/**
 * Raw Ed25519 keys to and from node:crypto key objects, and the node id of a public key.
 */

import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { ED25519_KEY_BYTES, NODE_ID_HEX_LENGTH } from './constants.js'
import { IdentityError } from './errors.js'

// PKCS#8 and SPKI DER prefixes of Ed25519 keys (RFC 8410 sections 4 and 7); the 32 raw bytes follow.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')
const B64URL_32 = /^[A-Za-z0-9_-]{43}$/
const NODE_ID_RE = /^[0-9a-f]{40}$/

/** A raw 32-byte key from base64url text or bytes; `null` when it is neither. */
function rawKey(value: unknown): Buffer | null {
  if (typeof value === 'string') {
    if (!B64URL_32.test(value)) return null
    const bytes = Buffer.from(value, 'base64url')
    // 43 characters carry 258 bits: the last 2 must be zero, so each key has exactly one spelling.
    return bytes.toString('base64url') === value ? bytes : null
  }
  if (value instanceof Uint8Array && value.length === ED25519_KEY_BYTES) return Buffer.from(value)
  return null
}

/** The private key object of a 32-byte seed (base64url or bytes); throws `ERR_INVALID_SECRET`. */
export function privateKeyFromSeed(seed: unknown): KeyObject {
  const raw = rawKey(seed)
  if (raw === null) {
    throw IdentityError.INVALID_SECRET(
      typeof seed === 'string' ? 'not 43 base64url characters' : 'not a string or 32 bytes',
    )
  }
  return createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  })
}

/** The raw 32 public-key bytes of a key (base64url or bytes); throws `ERR_INVALID_PUBLIC_KEY`. */
export function parsePublicKey(publicKey: unknown): Buffer {
  const raw = rawKey(publicKey)
  if (raw === null) {
    throw IdentityError.INVALID_PUBLIC_KEY(
      typeof publicKey === 'string' ? 'not 43 base64url characters' : 'not a string or 32 bytes',
    )
  }
  return raw
}

/**
 * The public key object of raw public-key bytes (already 32 bytes long). May throw for a non-point.
 * Imported as a JWK, not as SPKI DER: the same key, but node:crypto then skips OpenSSL's DER decoder
 * framework, which made the import cost more than the signature check itself (130 µs vs 7 µs per key,
 * measured on Node 20 / OpenSSL 3 on this project's machine).
 */
export function publicKeyObject(raw: Uint8Array): KeyObject {
  return createPublicKey({
    key: {
      kty: 'OKP',
      crv: 'Ed25519',
      x: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url'),
    },
    format: 'jwk',
  })
}

/** The raw 32 public-key bytes of an Ed25519 key object (public, or private: its public half). */
export function rawPublicKey(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key
  return publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_ED25519_PREFIX.length)
}

/**
 * The node id of a raw Ed25519 public key (base64url or 32 bytes): the first 20 bytes of its SHA-256, as
 * 40 lowercase hex characters — the derivation `@pyp2p/dht-msg` used, so existing ids stay valid.
 * Throws `ERR_INVALID_PUBLIC_KEY`.
 */
export function nodeIdFromPublicKey(publicKey: string | Uint8Array): string {
  return createHash('sha256').update(parsePublicKey(publicKey)).digest('hex').slice(0, NODE_ID_HEX_LENGTH)
}

/** Whether `value` is a node id (40 lowercase hex characters). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_RE.test(value)
}
