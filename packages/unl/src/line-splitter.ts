/**
 * The send side of relay-lines.ts: the application LineSocket's writes to the bridge (each normally
 * one whole `text\r\n`, as a string) back into lines, tagged, to go out in one `sendLines()`.
 */
import { StringDecoder } from 'node:string_decoder'

/** A chunk as `Writable#_writev` hands it over with `decodeStrings: false`. */
export interface WriteChunk {
  chunk: Buffer | string
  encoding: BufferEncoding
}

export class LineSplitter {
  readonly #text = new StringDecoder('utf8')
  /** The end of the last chunk, not a whole line yet. */
  #partial = ''
  /** Set once a chunk came as bytes: from then on every chunk goes through the decoder, in order. */
  #bytes = false

  /** The whole lines `chunks` complete, each prefixed with `tag`, without their `\n` or `\r\n`. */
  lines(chunks: readonly WriteChunk[], tag: string): string[] {
    const out: string[] = []
    for (const { chunk, encoding } of chunks) {
      const utf8 = typeof chunk === 'string' && (encoding === 'utf8' || encoding === 'utf-8')
      if (!utf8) this.#bytes = true
      const text = this.#bytes
        ? this.#text.write(typeof chunk === 'string' ? Buffer.from(chunk, encoding) : chunk)
        : (chunk as string)
      // The usual chunk: one whole line and its `\r\n`, nothing left over before it.
      const nl = text.indexOf('\n')
      if (this.#partial === '' && nl === text.length - 1 && nl > 0 && text.charCodeAt(nl - 1) === 13) {
        out.push(tag + text.slice(0, -2))
        continue
      }
      const parts = (this.#partial + text).split('\n')
      this.#partial = parts.pop() ?? ''
      for (const raw of parts) out.push(tag + (raw.endsWith('\r') ? raw.slice(0, -1) : raw))
    }
    return out
  }
}
