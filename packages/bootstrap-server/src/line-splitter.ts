/**
 * Lines out of connections' chunks, with @pyp2p/framing's `LineDecoder` (the same splitting and
 * line-length rule as `LineSocket`). A chunk that ends a line — the usual one: clients send whole lines —
 * goes through one decoder shared by every connection, which holds nothing once it returns; a
 * connection gets a decoder of its own only while it has an unfinished line, and drops it when the line
 * is whole. An idle connection so keeps no decoder (about 100 bytes of heap each, issue 16).
 */
import { FramingError, LineDecoder } from '@pyp2p/framing'
import type { Connection } from './connection.js'

/** The byte that ends a line (`\n`; a `\r` before it is the decoder's business). */
const LF = 0x0a

export class LineSplitter {
  readonly #maxLineLength: number
  readonly #shared: LineDecoder

  /** `maxLineLength`: a line past it is refused unread (`write` returns false). */
  constructor(maxLineLength: number) {
    this.#maxLineLength = maxLineLength
    this.#shared = new LineDecoder({ maxLineLength })
  }

  /**
   * Feeds `chunk` of `conn`, calling `onLine` for every line it completes, in order. Returns false when
   * a line is over the limit (the lines before it were delivered; the connection must be ended).
   * `onLine` may throw (a bug): the rest of the chunk is then lost, as with `LineDecoder`.
   */
  write(conn: Connection, chunk: Buffer, onLine: (line: string) => void): boolean {
    let decoder = conn.decoder ?? this.#shared
    if (decoder === this.#shared && chunk[chunk.length - 1] !== LF) {
      decoder = new LineDecoder({ maxLineLength: this.#maxLineLength })
      conn.decoder = decoder
    }
    try {
      decoder.write(chunk, onLine)
    } catch (error) {
      if (!(error instanceof FramingError) || error !== decoder.error) throw error
      if (decoder === this.#shared) this.#shared.reset()
      conn.decoder = undefined
      return false
    }
    if (conn.decoder !== undefined && conn.decoder.pendingBytes === 0) conn.decoder = undefined
    return true
  }
}
