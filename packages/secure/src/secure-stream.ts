/**
 * The encrypted duplex over a socket after the handshake. Each frame on the wire is a 2-byte
 * big-endian length and a Noise transport message (ChaCha20-Poly1305 ciphertext and tag, at most
 * 65,535 bytes). Writes made in the same tick (or while the socket is corked) leave as one frame, so
 * many short lines cost one encryption.
 */

import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import createDebug from 'debug'
import { ByteQueue } from './byte-queue.js'
import { LENGTH_PREFIX, MAX_FRAME_PLAINTEXT, TAG_LENGTH } from './constants.js'
import { SecureError } from './errors.js'
import type { CipherState } from './noise/cipher-state.js'

const log = createDebug('pyp2p:secure')
const NO_AD = Buffer.alloc(0)

export interface SecureStreamInit {
  send: CipherState
  receive: CipherState
  handshakeHash: Buffer
  /** Bytes received after the handshake, before this stream existed. */
  head: Buffer
  remoteNodeId: string
  remotePublicKey: string
}

/**
 * A `Duplex` of plaintext bytes. Also answers the `net.Socket` members a line transport uses
 * (addresses, keep-alive, no-delay) from the underlying socket.
 */
export class SecureStream extends Duplex {
  /** The underlying connection (a `net.Socket` when one was given). */
  readonly socket: Socket | Duplex
  readonly remoteNodeId: string
  /** The peer's Ed25519 public key, base64url. */
  readonly remotePublicKey: string
  /** The Noise handshake hash: the same on both ends, unique to this session. */
  readonly handshakeHash: Buffer
  readonly #send: CipherState
  readonly #receive: CipherState
  readonly #queue = new ByteQueue()

  constructor(socket: Socket | Duplex, init: SecureStreamInit) {
    super({ allowHalfOpen: false })
    this.socket = socket
    this.remoteNodeId = init.remoteNodeId
    this.remotePublicKey = init.remotePublicKey
    this.handshakeHash = init.handshakeHash
    this.#send = init.send
    this.#receive = init.receive
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('error', this.#onError)
    socket.on('close', this.#onClose)
    if (init.head.length > 0) this.#onData(init.head)
    socket.resume()
  }

  get remoteAddress(): string | undefined {
    return (this.socket as Socket).remoteAddress
  }
  get remotePort(): number | undefined {
    return (this.socket as Socket).remotePort
  }
  get localAddress(): string | undefined {
    return (this.socket as Socket).localAddress
  }
  get localPort(): number | undefined {
    return (this.socket as Socket).localPort
  }
  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    ;(this.socket as Partial<Socket>).setKeepAlive?.(enable, initialDelay)
    return this
  }
  setNoDelay(noDelay?: boolean): this {
    ;(this.socket as Partial<Socket>).setNoDelay?.(noDelay)
    return this
  }

  #onData = (chunk: Buffer | string): void => {
    if (this.destroyed) return
    this.#queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    let more = true
    while (this.#queue.length >= LENGTH_PREFIX) {
      const length = this.#queue.peekUInt16BE()
      if (length < TAG_LENGTH) {
        this.destroy(SecureError.DECRYPT_FAILED(new Error(`a ${length}-byte frame is shorter than its tag`)))
        return
      }
      if (this.#queue.length < LENGTH_PREFIX + length) break
      const ciphertext = this.#queue.take(LENGTH_PREFIX + length).subarray(LENGTH_PREFIX)
      let plaintext: Buffer
      try {
        plaintext = this.#receive.decryptWithAd(NO_AD, ciphertext)
      } catch (err) {
        this.destroy(err instanceof SecureError ? err : SecureError.DECRYPT_FAILED(err))
        return
      }
      if (plaintext.length > 0) more = this.push(plaintext)
    }
    if (!more) this.socket.pause()
  }

  override _read(): void {
    if (!this.socket.destroyed) this.socket.resume()
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#sendFrames([chunk], callback)
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.#sendFrames(
      chunks.map((c) => c.chunk),
      callback,
    )
  }

  #sendFrames(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    const data = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)
    const frames: Buffer[] = []
    try {
      for (let offset = 0; offset < data.length; offset += MAX_FRAME_PLAINTEXT) {
        const ciphertext = this.#send.encryptWithAd(
          NO_AD,
          data.subarray(offset, offset + MAX_FRAME_PLAINTEXT),
        )
        const head = Buffer.allocUnsafe(LENGTH_PREFIX)
        head.writeUInt16BE(ciphertext.length)
        frames.push(head, ciphertext)
      }
    } catch (err) {
      callback(err as Error)
      return
    }
    if (frames.length === 0) {
      callback()
      return
    }
    if (this.socket.write(Buffer.concat(frames))) {
      // Completing on the next tick lets the writes made meanwhile reach `_writev` as one batch.
      process.nextTick(callback)
    } else {
      this.socket.once('drain', () => callback())
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (error !== null) log('secure stream with %s failed: %s', this.remoteNodeId, error.message)
    this.socket.off('data', this.#onData)
    this.socket.destroy()
    callback(error)
  }

  #onEnd = (): void => {
    if (this.#queue.length > 0) {
      this.destroy(SecureError.TRUNCATED_FRAME(this.#queue.length))
      return
    }
    this.push(null)
  }

  #onError = (error: Error): void => {
    this.destroy(error)
  }

  #onClose = (): void => {
    if (!this.destroyed) this.destroy()
  }
}
