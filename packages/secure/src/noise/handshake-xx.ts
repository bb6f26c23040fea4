/**
 * The Noise XX handshake (Noise section 7.5) as a HandshakeState (section 5.3), without PSKs:
 *
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *
 * Pure computation on byte arrays: no I/O, so it is checked against an independent implementation (test/noise-interop.test.ts).
 */

import { DH_LENGTH, TAG_LENGTH } from '../constants.js'
import { SecureError } from '../errors.js'
import type { CipherState } from './cipher-state.js'
import type { NoiseCipher } from './cipher-suite.js'
import { type DhKeyPair, dh, generateDhKeyPair } from './dh.js'
import { SymmetricState } from './symmetric-state.js'

export interface HandshakeXXOptions {
  initiator: boolean
  /** The local static key pair. */
  staticKeyPair: DhKeyPair
  prologue: Uint8Array
  /** The cipher functions (the protocol name is `Noise_XX_25519_<cipher>_SHA256`). */
  cipher: NoiseCipher
  /**
   * A fixed ephemeral key pair; default a new random one. Tests fix it; a dialler makes it before it
   * knows the cipher (message 1 is the same bytes with either), then builds this state with it.
   */
  ephemeralKeyPair?: DhKeyPair
}

export interface TransportCiphers {
  send: CipherState
  receive: CipherState
  /** The handshake hash: both sides have the same one (a channel binding). */
  handshakeHash: Buffer
}

export class HandshakeXX {
  readonly initiator: boolean
  readonly #ss: SymmetricState
  readonly #s: DhKeyPair
  #e: DhKeyPair | undefined
  #re: Buffer | undefined
  #rs: Buffer | undefined
  #step = 0

  constructor(options: HandshakeXXOptions) {
    this.initiator = options.initiator
    this.#ss = new SymmetricState(options.cipher)
    this.#s = options.staticKeyPair
    this.#e = options.ephemeralKeyPair
    this.#ss.mixHash(options.prologue)
  }

  /** The peer's static public key (32 bytes), once message 2 (initiator) or 3 (responder) was read. */
  get remoteStatic(): Buffer | undefined {
    return this.#rs
  }

  get finished(): boolean {
    return this.#step === 3
  }

  /** Whether the next message is ours to write. */
  get writing(): boolean {
    return this.#step < 3 && (this.#step % 2 === 0) === this.initiator
  }

  /** Our ephemeral key pair: the fixed one, else made when first written. */
  #ephemeral(): DhKeyPair {
    this.#e ??= generateDhKeyPair()
    return this.#e
  }

  #dh(local: DhKeyPair, remote: Buffer | undefined): void {
    if (remote === undefined) throw SecureError.HANDSHAKE_FAILED('no remote key (out of order)')
    let shared: Buffer
    try {
      shared = dh(local.privateKey, remote)
    } catch (err) {
      throw SecureError.HANDSHAKE_FAILED('the peer sent an invalid key', err)
    }
    this.#ss.mixKey(shared)
  }

  /** The next handshake message, carrying `payload`. */
  writeMessage(payload: Uint8Array): Buffer {
    if (!this.writing) throw SecureError.HANDSHAKE_FAILED('not our turn to write')
    const parts: Buffer[] = []
    if (this.#step === 0) {
      const e = this.#ephemeral()
      parts.push(e.publicKey)
      this.#ss.mixHash(e.publicKey)
    } else if (this.#step === 1) {
      const e = this.#ephemeral()
      parts.push(e.publicKey)
      this.#ss.mixHash(e.publicKey)
      this.#dh(e, this.#re) // ee
      parts.push(this.#ss.encryptAndHash(this.#s.publicKey))
      this.#dh(this.#s, this.#re) // es (responder: DH(s, re))
    } else {
      parts.push(this.#ss.encryptAndHash(this.#s.publicKey))
      this.#dh(this.#s, this.#re) // se (initiator: DH(s, re))
    }
    parts.push(this.#ss.encryptAndHash(payload))
    this.#step++
    return Buffer.concat(parts)
  }

  /** The payload of the peer's next handshake message; throws a `SecureError` for anything wrong. */
  readMessage(message: Uint8Array): Buffer {
    if (this.writing || this.finished) throw SecureError.HANDSHAKE_FAILED('not our turn to read')
    let rest = Buffer.from(message)
    const take = (n: number, what: string): Buffer => {
      if (rest.length < n)
        throw SecureError.HANDSHAKE_MALFORMED(`message ${this.#step + 1} too short for ${what}`)
      const head = rest.subarray(0, n)
      rest = rest.subarray(n)
      return head
    }
    if (this.#step === 0) {
      this.#re = Buffer.from(take(DH_LENGTH, 'e'))
      this.#ss.mixHash(this.#re)
    } else if (this.#step === 1) {
      this.#re = Buffer.from(take(DH_LENGTH, 'e'))
      this.#ss.mixHash(this.#re)
      this.#dh(this.#ephemeral(), this.#re) // ee
      this.#rs = this.#decrypt(take(DH_LENGTH + TAG_LENGTH, 's'))
      this.#dh(this.#ephemeral(), this.#rs) // es (initiator: DH(e, rs))
    } else {
      this.#rs = this.#decrypt(take(DH_LENGTH + TAG_LENGTH, 's'))
      this.#dh(this.#ephemeral(), this.#rs) // se (responder: DH(e, rs))
    }
    const payload = this.#decrypt(rest)
    this.#step++
    return payload
  }

  #decrypt(ciphertext: Buffer): Buffer {
    try {
      return this.#ss.decryptAndHash(ciphertext)
    } catch (err) {
      throw SecureError.HANDSHAKE_FAILED('a handshake message failed its integrity check', err)
    }
  }

  /** The transport ciphers; only once the handshake is finished. */
  split(): TransportCiphers {
    if (!this.finished) throw SecureError.HANDSHAKE_FAILED('handshake not finished')
    const [c1, c2] = this.#ss.split()
    return this.initiator
      ? { send: c1, receive: c2, handshakeHash: this.#ss.h }
      : { send: c2, receive: c1, handshakeHash: this.#ss.h }
  }
}
