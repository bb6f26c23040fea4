/**
 * X25519 (RFC 7748) from node:crypto, with keys as raw 32-byte values on the wire.
 */

import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject, randomBytes } from 'node:crypto'
import { DH_LENGTH } from '../constants.js'

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

/**
 * A new random key pair: 32 random bytes imported as the private key (RFC 7748 section 5: any 32
 * bytes are a private key; X25519 clamps them).
 *
 * Not `generateKeyPairSync('x25519')`: Node (seen on 20.20) can deadlock the whole process when a
 * key it generated is exported. The key shares a mutex with the generation job, the JWK export holds
 * that mutex while it allocates, and a GC during that allocation that frees the (already unreferenced)
 * job runs the job's destructor, which takes the same mutex: the event loop stops for good, every
 * handshake in the process times out. About one handshake in several thousand hit it (bench:secure).
 * An imported key has no job, so nothing frees while the export holds its mutex.
 */
export function generateDhKeyPair(): DhKeyPair {
  return dhKeyPairFromPrivate(randomBytes(DH_LENGTH))
}

/**
 * The key pair of a raw 32-byte private key (tests fix their keys). Imported as a JWK (RFC 8037: `d`
 * is the raw private key); Node reads only `d` of a private OKP key, `x` must merely be a string, and
 * the public key is then derived from the private one (`pairOf`).
 */
export function dhKeyPairFromPrivate(raw: Uint8Array): DhKeyPair {
  if (raw.length !== DH_LENGTH) throw new RangeError(`an X25519 private key is ${DH_LENGTH} bytes`)
  const d = Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('base64url')
  return pairOf(createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: '' }, format: 'jwk' }))
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
