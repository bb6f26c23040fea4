/**
 * The receive half of a SecureStream: parses `u16 length | ciphertext | tag` frames out of the bytes
 * as they arrive and decrypts each frame's ciphertext piece by piece as it comes (no copy to reassemble
 * a frame that spans reads). A frame's plaintext is handed on only after its tag checked out (Noise
 * section 5.1 DecryptWithAd: nothing of a frame that fails authentication is released).
 */

import { LENGTH_PREFIX, TAG_LENGTH } from './constants.js'
import { SecureError } from './errors.js'
import type { AeadDecipher, CipherState } from './noise/cipher-state.js'

export class FrameReader {
  readonly #cipher: CipherState
  /** The length prefix's bytes read so far (`#headUsed` of them), as a number. */
  #head = 0
  #headUsed = 0
  /** The current frame's decipher, from its length prefix until its tag is checked. */
  #decipher: AeadDecipher | undefined
  /** Ciphertext bytes of the current frame not received yet (the tag not counted). */
  #bodyLeft = 0
  /**
   * The tag, when it spans reads (else it is checked straight from the read): made per frame that
   * needs it and dropped after, so an idle session holds no buffer here.
   */
  #tag: Buffer | undefined
  #tagUsed = 0
  /** Plaintext of the current frame, held back until its tag is checked. */
  #plain: Buffer[] = []
  /** Bytes of the current, unfinished frame received so far (length prefix included). */
  #partial = 0

  constructor(cipher: CipherState) {
    this.#cipher = cipher
  }

  /** Bytes of a frame begun but not finished: nonzero at the end of the stream means it was cut. */
  get partial(): number {
    return this.#partial
  }

  /**
   * Reads `chunk`, calling `deliver` with the plaintext of every frame it completes, in order. Throws
   * `ERR_DECRYPT_FAILED` for a frame shorter than its tag or one that fails authentication (the
   * reader is then unusable: the caller ends the stream).
   */
  write(chunk: Buffer, deliver: (plaintext: Buffer) => void): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.#decipher === undefined) {
        // The u16 big-endian length, byte by byte (it may span reads).
        this.#head = (this.#head << 8) | (chunk[offset] as number)
        this.#headUsed++
        this.#partial++
        offset++
        if (this.#headUsed === LENGTH_PREFIX) this.#begin(this.#head)
      } else if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - offset)
        const plain = this.#decipher.update(chunk.subarray(offset, offset + take))
        if (plain.length > 0) this.#plain.push(plain)
        this.#bodyLeft -= take
        this.#partial += take
        offset += take
      } else if (this.#tagUsed === 0 && chunk.length - offset >= TAG_LENGTH) {
        const tag = chunk.subarray(offset, offset + TAG_LENGTH)
        offset += TAG_LENGTH
        this.#finish(tag, deliver)
      } else {
        const take = Math.min(TAG_LENGTH - this.#tagUsed, chunk.length - offset)
        this.#tag ??= Buffer.allocUnsafe(TAG_LENGTH)
        chunk.copy(this.#tag, this.#tagUsed, offset, offset + take)
        this.#tagUsed += take
        this.#partial += take
        offset += take
        if (this.#tagUsed === TAG_LENGTH) this.#finish(this.#tag, deliver)
      }
    }
  }

  #begin(length: number): void {
    if (length < TAG_LENGTH) {
      throw SecureError.DECRYPT_FAILED(new Error(`a ${length}-byte frame is shorter than its tag`))
    }
    this.#decipher = this.#cipher.beginDecrypt()
    this.#bodyLeft = length - TAG_LENGTH
  }

  #finish(tag: Buffer, deliver: (plaintext: Buffer) => void): void {
    const decipher = this.#decipher as AeadDecipher
    const plain = this.#plain
    this.#decipher = undefined
    this.#plain = []
    this.#head = 0
    this.#headUsed = 0
    this.#tag = undefined
    this.#tagUsed = 0
    this.#partial = 0
    try {
      decipher.setAuthTag(tag)
      decipher.final()
    } catch (err) {
      throw SecureError.DECRYPT_FAILED(err)
    }
    for (const p of plain) deliver(p)
  }
}
