/**
 * The Noise SymmetricState (Noise section 5.2) with SHA-256. Noise's HKDF (section 4.3) with two
 * outputs is RFC 5869 HKDF with the chaining key as salt and empty info, so node:crypto's `hkdfSync`
 * computes it.
 */

import { createHash, hkdfSync } from 'node:crypto'
import { CipherState } from './cipher-state.js'
import { type CipherSuite, cipherSuite, type NoiseCipher, noiseProtocolName } from './cipher-suite.js'

const HASH_LENGTH = 32
const EMPTY = Buffer.alloc(0)

/** Noise HKDF(chaining_key, input_key_material, 2). */
export function hkdf2(chainingKey: Buffer, ikm: Uint8Array): [Buffer, Buffer] {
  const out = Buffer.from(hkdfSync('sha256', ikm, chainingKey, EMPTY, 2 * HASH_LENGTH))
  return [out.subarray(0, HASH_LENGTH), out.subarray(HASH_LENGTH)]
}

export class SymmetricState {
  #ck: Buffer
  #h: Buffer
  readonly #suite: CipherSuite
  readonly #cipher: CipherState

  /** Initialized with the protocol name of our XX handshake with `cipher` (cipher-suite.ts). */
  constructor(cipher: NoiseCipher) {
    this.#suite = cipherSuite(cipher)
    this.#cipher = new CipherState(this.#suite)
    const name = Buffer.from(noiseProtocolName(cipher), 'ascii')
    // A name of at most HASHLEN bytes is zero-padded, a longer one hashed (Noise section 5.2).
    this.#h = name.length <= HASH_LENGTH ? Buffer.concat([name], HASH_LENGTH) : sha256(name)
    this.#ck = this.#h
  }

  /** The handshake hash: identical on both sides once the handshake is done. */
  get h(): Buffer {
    return this.#h
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, key] = hkdf2(this.#ck, ikm)
    this.#ck = ck
    this.#cipher.initializeKey(key)
  }

  mixHash(data: Uint8Array): void {
    this.#h = sha256(this.#h, data)
  }

  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** The two transport CipherStates: initiator-to-responder, then responder-to-initiator. */
  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.#ck, EMPTY)
    return [new CipherState(this.#suite, k1), new CipherState(this.#suite, k2)]
  }
}

function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return hash.digest()
}
