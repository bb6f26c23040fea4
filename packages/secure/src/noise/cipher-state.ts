/**
 * The Noise CipherState (Noise section 5.1) with one of our cipher suites (cipher-suite.ts: AESGCM or
 * ChaChaPoly, from node:crypto's OpenSSL).
 */

import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  type DecipherChaCha20Poly1305,
  type DecipherGCM,
} from 'node:crypto'
import { MAX_NONCE, TAG_LENGTH } from '../constants.js'
import { SecureError } from '../errors.js'
import type { CipherSuite } from './cipher-suite.js'

const EMPTY = Buffer.alloc(0)

/** A transport frame's decipher, either suite's (the same members are used). */
export type AeadDecipher = DecipherGCM | DecipherChaCha20Poly1305

/**
 * Where each nonce is written just before `createCipheriv`/`createDecipheriv` copy it: one for the
 * module, not one per CipherState, because a session kept its own (as a slice of Node's Buffer pool,
 * or as an ArrayBuffer of its own) for as long as it lived, about 1.4 KB of heap per idle session end
 * measured (a pool slice pins its whole 8 KiB slab). Scratch only: written and read within one
 * synchronous call, never holding anything between calls. The first 4 bytes stay 0 (both suites).
 */
const NONCE = Buffer.alloc(12)

export class CipherState {
  readonly #suite: CipherSuite
  #key: Buffer | undefined
  #n = 0

  constructor(suite: CipherSuite, key?: Buffer) {
    this.#suite = suite
    this.#key = key
  }

  /** The cipher's Noise name. */
  get cipher(): CipherSuite['name'] {
    return this.#suite.name
  }

  hasKey(): boolean {
    return this.#key !== undefined
  }

  initializeKey(key: Buffer): void {
    this.#key = key
    this.#n = 0
  }

  // The algorithm is one of two AEADs with a 16-byte tag; node:crypto's overloads type each alone.
  #cipher(key: Buffer, nonce: Buffer): CipherGCM {
    return createCipheriv(this.#suite.algorithm as 'aes-256-gcm', key, nonce, { authTagLength: TAG_LENGTH })
  }

  #decipher(key: Buffer, nonce: Buffer): AeadDecipher {
    return createDecipheriv(this.#suite.algorithm as 'aes-256-gcm', key, nonce, {
      authTagLength: TAG_LENGTH,
    })
  }

  #nextNonce(): Buffer {
    if (this.#n >= MAX_NONCE) throw SecureError.NONCE_EXHAUSTED()
    this.#suite.writeNonce(NONCE, this.#n)
    this.#n++
    return NONCE
  }

  /** `plaintext` unchanged without a key (Noise: EncryptWithAd before a key is set), else ciphertext + tag. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(plaintext)
    const cipher = this.#cipher(this.#key, this.#nextNonce())
    if (ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length })
    const head = cipher.update(plaintext)
    cipher.final()
    return Buffer.concat([head, cipher.getAuthTag()])
  }

  /**
   * `encryptWithAd` with an empty ad, the ciphertext and tag returned as they come from the cipher
   * (no copy to join them): the transport frames' path, where they are written one after the other.
   */
  encryptDetached(plaintext: Uint8Array): { body: Buffer; tag: Buffer } {
    if (this.#key === undefined) return { body: Buffer.from(plaintext), tag: EMPTY }
    const cipher = this.#cipher(this.#key, this.#nextNonce())
    const body = plaintext.length > 0 ? cipher.update(plaintext) : EMPTY
    cipher.final()
    return { body, tag: cipher.getAuthTag() }
  }

  /**
   * `decryptWithAd` with an empty ad, as a decipher to feed the ciphertext piece by piece, then
   * `setAuthTag(tag)` and `final()` (which throws if the frame was altered): the transport frames' path,
   * where a frame may arrive in several reads. Uses up a nonce; needs a key (after the handshake).
   */
  beginDecrypt(): AeadDecipher {
    if (this.#key === undefined)
      throw SecureError.DECRYPT_FAILED(new Error('no key: the handshake is not done'))
    return this.#decipher(this.#key, this.#nextNonce())
  }

  /** The plaintext of `ciphertext` (with its tag); throws `ERR_DECRYPT_FAILED` if it was altered. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Buffer {
    if (this.#key === undefined) return Buffer.from(ciphertext)
    if (ciphertext.length < TAG_LENGTH) throw SecureError.DECRYPT_FAILED()
    const nonce = this.#nextNonce()
    const split = ciphertext.length - TAG_LENGTH
    try {
      const decipher = this.#decipher(this.#key, nonce)
      decipher.setAuthTag(ciphertext.subarray(split))
      if (ad.length > 0) decipher.setAAD(ad, { plaintextLength: split })
      const body = split > 0 ? decipher.update(ciphertext.subarray(0, split)) : EMPTY
      decipher.final()
      return body
    } catch (err) {
      throw SecureError.DECRYPT_FAILED(err)
    }
  }
}
