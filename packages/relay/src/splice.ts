/**
 * Two sockets joined into one circuit: each one's bytes written to the other, with back-pressure (a
 * sender is paused while more than `maxBuffer` bytes wait for its reader, and resumed as they drain),
 * a byte limit per direction (the relay forwards exactly `maxBytes`, then ends the circuit), and one
 * end report. The relay never looks at the bytes: the ends run their own handshake through them.
 */
import type { Socket } from 'node:net'
import { type EndReason, formatError } from './protocol.js'

export interface SpliceOptions {
  /** Bytes one direction may carry. */
  maxBytes: number
  /** Bytes waiting for one reader before its sender is paused. */
  maxBuffer: number
  /** A reader fell behind and its sender was paused (`buffered` bytes wait for it). */
  onPause?(buffered: number): void
  /** Called once, when the circuit is over (both sockets destroyed or ending). */
  onEnd(reason: EndReason, bytes: readonly [number, number]): void
}

export class Splice {
  /** Bytes forwarded a → b and b → a. */
  readonly bytes: [number, number] = [0, 0]
  readonly #a: Socket
  readonly #b: Socket
  readonly #o: SpliceOptions
  #ended = false
  #closed = 0

  constructor(a: Socket, b: Socket, options: SpliceOptions) {
    this.#a = a
    this.#b = b
    this.#o = options
    this.#pipe(a, b, 0)
    this.#pipe(b, a, 1)
    a.resume()
    b.resume()
  }

  get ended(): boolean {
    return this.#ended
  }

  /**
   * Ends the circuit: `closed` flushes what is buffered and half-closes both ends (FIN); a limit or
   * `relay` (shutdown) ends both at once. Idempotent; the first reason is the one reported.
   */
  end(reason: EndReason): void {
    if (this.#ended) return
    this.#ended = true
    for (const s of [this.#a, this.#b]) {
      if (reason === 'closed') s.end(() => s.destroy())
      else s.destroy()
    }
    this.#o.onEnd(reason, this.bytes)
  }

  #pipe(src: Socket, dst: Socket, i: 0 | 1): void {
    const { maxBytes, maxBuffer } = this.#o
    const resume = (): void => {
      if (!this.#ended && src.isPaused() && dst.writableLength < maxBuffer) src.resume()
    }
    src.on('data', (chunk: Buffer) => {
      if (this.#ended) return
      const left = maxBytes - this.bytes[i]
      if (chunk.length > left) {
        if (left > 0) dst.write(chunk.subarray(0, left))
        this.bytes[i] += Math.max(left, 0)
        // Let the part that fits reach the reader before the circuit goes.
        this.#ended = true
        for (const s of [src, dst]) s.end(() => s.destroy())
        this.#o.onEnd('bytes', this.bytes)
        return
      }
      this.bytes[i] += chunk.length
      dst.write(chunk, resume)
      if (dst.writableLength >= maxBuffer && !src.isPaused()) {
        src.pause()
        this.#o.onPause?.(dst.writableLength)
      }
    })
    dst.on('drain', resume)
    // One end gone: the other gets what is buffered for it, then FIN.
    src.on('end', () => this.end('closed'))
    src.on('error', () => this.end('closed'))
    src.on('close', () => {
      if (++this.#closed === 1) this.end('closed')
    })
  }
}

function noop(): void {}

/** `ERROR <CODE> <text>` on a raw socket (a refused circuit end), then FIN; destroyed once flushed. */
export function endWith(socket: Socket, e: { code: string; message: string }): void {
  socket.on('error', noop)
  if (socket.destroyed) return
  socket.end(`${formatError(e.code, e.message)}\r\n`, () => socket.destroy())
}
