/**
 * X25519 (RFC 7748) from node:crypto, with keys as raw 32-byte values on the wire.
 */

import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto'

// PKCS#8 and SPKI DER prefixes of X25519 keys (RFC 8410 sections 4 and 7); the 32 raw bytes follow.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex')

export interface DhKeyPair {
  readonly privateKey: KeyObject
  /** Raw 32 bytes. */
  readonly publicKey: Buffer
}

function pairOf(privateKey: KeyObject): DhKeyPair {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: spki.subarray(SPKI_X25519_PREFIX.length) }
}

/** A new random key pair. */
export function generateDhKeyPair(): DhKeyPair {
  return pairOf(generateKeyPairSync('x25519').privateKey)
}

/** The key pair of a raw 32-byte private key (tests fix their keys). */
export function dhKeyPairFromPrivate(raw: Uint8Array): DhKeyPair {
  const key = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, raw]),
    format: 'der',
    type: 'pkcs8',
  })
  return pairOf(key)
}

/**
 * DH(private, remote public): 32 bytes. Throws (from OpenSSL) for a remote key whose result is all
 * zeros (a low-order point); callers turn that into a handshake failure.
 */
export function dh(privateKey: KeyObject, remotePublic: Uint8Array): Buffer {
  const publicKey = createPublicKey({
    key: Buffer.concat([SPKI_X25519_PREFIX, remotePublic]),
    format: 'der',
    type: 'spki',
  })
  return diffieHellman({ privateKey, publicKey })
}
