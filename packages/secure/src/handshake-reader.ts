/**
 * Reads the handshake from a socket: collects bytes and, on each arrival, asks a parser whether what
 * it waits for is there. Ends with a typed error when the peer closes or errors, or the signal aborts.
 */

import type { Duplex } from 'node:stream'
import { ByteQueue } from './byte-queue.js'
import { SecureError } from './errors.js'

/** Returns the value when `queue` holds it (consuming it), `undefined` to wait for more, or throws. */
export type QueueParser<T> = (queue: ByteQueue) => T | undefined

export class HandshakeReader {
  readonly queue = new ByteQueue()
  readonly #socket: Duplex
  #ended: SecureError | undefined
  #wake: (() => void) | undefined

  constructor(socket: Duplex) {
    this.#socket = socket
    socket.on('data', this.#onData)
    socket.on('end', this.#onEnd)
    socket.on('close', this.#onEnd)
    socket.on('error', this.#onError)
    if (socket.destroyed) this.#ended = SecureError.HANDSHAKE_CLOSED()
    // A socket someone paused (e.g. after peeking at its first bytes and putting them back) is read too.
    else socket.resume()
  }

  #onData = (chunk: Buffer | string): void => {
    this.queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    this.#wake?.()
  }

  #onEnd = (): void => {
    this.#ended ??= SecureError.HANDSHAKE_CLOSED()
    this.#wake?.()
  }

  #onError = (error: Error): void => {
    this.#ended ??= SecureError.HANDSHAKE_CLOSED(error)
    this.#wake?.()
  }

  /** Resolves with what `parse` finds; rejects with its error, a close, or the signal's reason. */
  wait<T>(parse: QueueParser<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined
        try {
          value = parse(this.queue)
        } catch (err) {
          done()
          reject(err)
          return
        }
        if (value !== undefined) {
          done()
          resolve(value)
        } else if (this.#ended !== undefined) {
          done()
          reject(this.#ended)
        } else if (signal.aborted) {
          onAbort()
        }
      }
      const onAbort = (): void => {
        done()
        reject(signal.reason)
      }
      const done = (): void => {
        this.#wake = undefined
        signal.removeEventListener('abort', onAbort)
      }
      this.#wake = check
      signal.addEventListener('abort', onAbort, { once: true })
      check()
    })
  }

  /** Stops reading: the socket is paused and left with no listener of ours; returns the bytes not consumed. */
  detach(): Buffer {
    this.#socket.pause()
    this.#socket.off('data', this.#onData)
    this.#socket.off('end', this.#onEnd)
    this.#socket.off('close', this.#onEnd)
    this.#socket.off('error', this.#onError)
    this.#wake = undefined
    return this.queue.drain()
  }
}
