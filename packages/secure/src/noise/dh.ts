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
import { DH_LENGTH } from '../constants.js'

// The PKCS#8 DER prefix of X25519 private keys (RFC 8410 section 7); the 32 raw bytes follow.
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex')

export interface DhKeyPair {
  readonly privateKey: KeyObject
  /** Raw 32 bytes. */
  readonly publicKey: Buffer
}

// Keys cross into and out of OpenSSL as JWK (RFC 8037: `x` is the raw key, base64url), not DER: with
// OpenSSL 3, DER goes through its decoder framework, measured here at about 100-150 µs per X25519
// public key import against 10-20 µs for JWK, and three imports and two exports are in every handshake.
function pairOf(privateKey: KeyObject): DhKeyPair {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' })
  return { privateKey, publicKey: Buffer.from(x as string, 'base64url') }
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
  if (remotePublic.length !== DH_LENGTH) throw new RangeError(`an X25519 public key is ${DH_LENGTH} bytes`)
  const x = Buffer.from(remotePublic.buffer, remotePublic.byteOffset, remotePublic.length).toString(
    'base64url',
  )
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' })
  return diffieHellman({ privateKey, publicKey })
}
