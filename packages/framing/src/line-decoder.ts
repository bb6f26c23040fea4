import { isAscii } from 'node:buffer'
import { CR, DEFAULT_MAX_LINE_LENGTH, LF } from './constants.js'
import { FramingError } from './errors.js'

export interface LineDecoderOptions {
  /** Longest line accepted, in bytes, without its `\n` or `\r\n`. Default 1 MiB. */
  maxLineLength?: number
}

// `utf8Slice` is the method `toString('utf8', start, end)` ends up in; calling it directly skips the
// encoding lookup and is ~20% faster per line on Node 20. Fall back to `toString` where it is missing.
// For pure ASCII, `latin1Slice` gives the same string and is ~40% faster still (a plain copy).
type Slicer = (buf: Buffer, start: number, end: number) => string
type FastBuffer = Buffer & {
  utf8Slice?: (start: number, end: number) => string
  latin1Slice?: (start: number, end: number) => string
}
const proto = Buffer.prototype as FastBuffer
const utf8: Slicer =
  typeof proto.utf8Slice === 'function'
    ? (buf, start, end) => (buf as FastBuffer).utf8Slice!(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end)
const latin1: Slicer =
  typeof proto.latin1Slice === 'function'
    ? (buf, start, end) => (buf as FastBuffer).latin1Slice!(start, end)
    : (buf, start, end) => buf.toString('latin1', start, end)

/** Largest span decoded into one string; bigger inputs are fed in pieces of this size. */
const MAX_DECODE_SPAN = 16 * 1024 * 1024

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * Splits a byte stream into text lines: `\n` ends a line, a `\r` right before it is dropped.
 *
 * Splitting happens on the byte 0x0a, which never occurs inside a multi-byte UTF-8 sequence, and only
 * whole lines are decoded, so a character split across chunks decodes correctly. Invalid UTF-8 becomes
 * U+FFFD (the WHATWG decoder's behaviour); it never throws. The whole lines of a chunk are decoded as
 * one string and handed out as slices of it (V8 may keep that string alive while a slice lives). The
 * bytes of an unfinished line are kept as a list of chunks, joined once when the line ends; as soon as
 * they exceed `maxLineLength` the decoder throws `ERR_LINE_TOO_LONG` without keeping them, and keeps
 * throwing it (the stream is unusable until `reset()`).
 *
 * ```ts
 * const decoder = new LineDecoder()
 * decoder.decode(Buffer.from('HELLO\r\nWOR')) // ['HELLO']
 * decoder.decode(Buffer.from('LD\n'))         // ['WORLD']
 * ```
 */
export class LineDecoder {
  readonly maxLineLength: number
  #pending: Buffer[] = []
  #pendingBytes = 0
  #error: FramingError | undefined

  constructor(options: LineDecoderOptions = {}) {
    const max = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new RangeError(`maxLineLength must be a non-negative integer, got ${max}`)
    }
    this.maxLineLength = max
  }

  /** Bytes of the unfinished line held, waiting for its `\n`. */
  get pendingBytes(): number {
    return this.#pendingBytes
  }

  /** The error the decoder failed with, if it did. */
  get error(): FramingError | undefined {
    return this.#error
  }

  /**
   * Feeds `chunk`, calling `onLine` for each line it completes, in order. If a line is too long, the
   * lines before it are delivered first, then `ERR_LINE_TOO_LONG` is thrown. `onLine` may throw; the
   * rest of the chunk is then lost.
   */
  write(chunk: Uint8Array, onLine: (line: string) => void): void {
    if (this.#error !== undefined) throw this.#error
    const buf = asBuffer(chunk)
    if (buf.length === 0) return
    if (buf.length > MAX_DECODE_SPAN) {
      // Bound the size of one decoded string (V8 caps string length), whatever the caller hands us.
      for (let o = 0; o < buf.length; o += MAX_DECODE_SPAN)
        this.write(buf.subarray(o, o + MAX_DECODE_SPAN), onLine)
      return
    }
    const last = buf.lastIndexOf(LF)
    if (last === -1) {
      this.#keep(buf, 0)
      return
    }
    let start = 0
    if (this.#pendingBytes > 0) {
      const nl = buf.indexOf(LF)
      start = nl + 1
      onLine(this.#finishPending(buf, nl))
    }
    if (start <= last) this.#lines(buf, start, last + 1, onLine)
    if (last + 1 < buf.length) this.#keep(buf, last + 1)
  }

  /** Feeds `chunk` and returns the lines it completes (see {@link write}). */
  decode(chunk: Uint8Array): string[] {
    const lines: string[] = []
    this.write(chunk, (line) => lines.push(line))
    return lines
  }

  /** Drops the unfinished line and any error, as for a new stream. */
  reset(): void {
    this.#pending = []
    this.#pendingBytes = 0
    this.#error = undefined
  }

  // buf[start, end) is whole lines, each ending in \n. Decode them as one string (one call into C++
  // instead of one per line) and split that in JS; slicing a string is far cheaper than decoding.
  #lines(buf: Buffer, start: number, end: number, onLine: (line: string) => void): void {
    const max = this.maxLineLength
    const bytes = end - start
    const ascii = isAscii(buf.subarray(start, end))
    const str = ascii ? latin1(buf, start, end) : utf8(buf, start, end)
    // No line can be longer than the span. Otherwise string lengths must equal byte lengths to stand
    // for them: true for ASCII, and in general when the span decodes to as many UTF-16 units as it has
    // bytes, since no byte sequence decodes to more units than bytes (so each character is one byte).
    const check = bytes > max
    if (check && !ascii && str.length !== bytes) {
      this.#linesByBytes(buf, start, end, onLine)
      return
    }
    let pos = 0
    let nl = str.indexOf('\n')
    while (nl !== -1) {
      const lineEnd = nl > pos && str.charCodeAt(nl - 1) === CR ? nl - 1 : nl
      if (check && lineEnd - pos > max) this.#fail()
      onLine(str.slice(pos, lineEnd))
      pos = nl + 1
      nl = str.indexOf('\n', pos)
    }
  }

  // The exact path for spans longer than the limit that hold multi-byte characters: measure each line
  // in bytes and decode it alone.
  #linesByBytes(buf: Buffer, start: number, end: number, onLine: (line: string) => void): void {
    const max = this.maxLineLength
    for (let nl = buf.indexOf(LF, start); nl !== -1 && nl < end; nl = buf.indexOf(LF, start)) {
      const lineEnd = nl > start && buf[nl - 1] === CR ? nl - 1 : nl
      if (lineEnd - start > max) this.#fail()
      onLine(utf8(buf, start, lineEnd))
      start = nl + 1
    }
  }

  // Holds buf[from..] as (the start of) the unfinished line, failing once it is known to be too long.
  #keep(buf: Buffer, from: number): void {
    const total = this.#pendingBytes + (buf.length - from)
    // One byte over the limit may be the `\r` of a `\r\n` still to come: decide when the line ends.
    if (total > this.maxLineLength + 1 || (total === this.maxLineLength + 1 && buf[buf.length - 1] !== CR)) {
      this.#fail()
    }
    this.#pending.push(from === 0 ? buf : buf.subarray(from))
    this.#pendingBytes = total
  }

  // The pending chunks plus buf[0, nl) form one line; join them once and decode.
  #finishPending(buf: Buffer, nl: number): string {
    // Fail before joining: the line (less a possible trailing `\r`) is already known to be too long.
    if (this.#pendingBytes + nl > this.maxLineLength + 1) this.#fail()
    const parts = this.#pending
    parts.push(buf.subarray(0, nl))
    const joined = Buffer.concat(parts, this.#pendingBytes + nl)
    this.#pending = []
    this.#pendingBytes = 0
    const end = joined.length > 0 && joined[joined.length - 1] === CR ? joined.length - 1 : joined.length
    if (end > this.maxLineLength) this.#fail()
    return isAscii(joined) ? latin1(joined, 0, end) : utf8(joined, 0, end)
  }

  #fail(): never {
    this.#pending = []
    this.#pendingBytes = 0
    this.#error = FramingError.LINE_TOO_LONG(this.maxLineLength)
    throw this.#error
  }
}
