/**
 * The encrypted duplex over a socket after the handshake. Each frame on the wire is a 2-byte
 * big-endian length and a Noise transport message (ChaCha20-Poly1305 ciphertext and tag, at most
 * 65,535 bytes). Writes made in the same tick (or while the stream is corked) leave as one frame (as
 * many as their size needs), so many short lines cost one encryption (frame-writer.ts); frames are
 * decrypted as their bytes arrive and delivered once authenticated (frame-reader.ts).
 */

import type { Socket } from 'node:net'
import { Duplex } from 'node:stream'
import createDebug from 'debug'
import { MAX_FRAME_PLAINTEXT } from './constants.js'
import { SecureError } from './errors.js'
import { FrameReader } from './frame-reader.js'
import { type WriteChunk, writeFrames } from './frame-writer.js'
import type { CipherState } from './noise/cipher-state.js'

const log = createDebug('pyp2p:secure')

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
  readonly #reader: FrameReader

  constructor(socket: Socket | Duplex, init: SecureStreamInit) {
    // Strings stay strings until they are encoded into a frame's plaintext (one copy, see frame-writer).
    super({ allowHalfOpen: false, decodeStrings: false })
    this.socket = socket
    this.remoteNodeId = init.remoteNodeId
    this.remotePublicKey = init.remotePublicKey
    this.handshakeHash = init.handshakeHash
    this.#send = init.send
    this.#reader = new FrameReader(init.receive)
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
    try {
      this.#reader.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, this.#deliver)
    } catch (err) {
      this.destroy(err instanceof SecureError ? err : SecureError.DECRYPT_FAILED(err))
      return
    }
    if (!this.#more) {
      this.#more = true
      this.socket.pause()
    }
  }

  /** Set false when a push of this read hit the high-water mark: the socket pauses until `_read`. */
  #more = true
  #deliver = (plaintext: Buffer): void => {
    if (!this.push(plaintext)) this.#more = false
  }

  override _read(): void {
    if (!this.socket.destroyed) this.socket.resume()
  }

  override _write(
    chunk: Buffer | string,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#sendFrames([{ chunk, encoding }], callback)
  }

  override _writev(chunks: WriteChunk[], callback: (error?: Error | null) => void): void {
    this.#sendFrames(chunks, callback)
  }

  #sendFrames(chunks: readonly WriteChunk[], callback: (error?: Error | null) => void): void {
    let ok: boolean
    try {
      ok = writeFrames(this.socket, this.#send, chunks, MAX_FRAME_PLAINTEXT)
    } catch (err) {
      callback(err as Error)
      return
    }
    if (ok) {
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
    if (this.#reader.partial > 0) {
      this.destroy(SecureError.TRUNCATED_FRAME(this.#reader.partial))
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
