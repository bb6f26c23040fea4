/**
 * The send half of a SecureStream: the chunks written in one tick (strings as the line transport wrote
 * them, or buffers) become as few Noise transport frames as fit (each at most MAX_FRAME_PLAINTEXT bytes
 * of plaintext), each byte copied once: strings are encoded straight into the frame's plaintext buffer,
 * and a frame that is one written buffer is encrypted from it without a copy. A large frame goes to the
 * socket as three writes (length, ciphertext, tag: `cipher.update`'s and `getAuthTag`'s own buffers)
 * that leave as one writev (the socket is corked for each frame); a small one as one joined buffer.
 * The wire format is the same either way: u16 length, then the Noise transport message (Noise section
 * 5.1 EncryptWithAd with empty ad, ChaChaPoly section 12.3).
 */

import type { Writable } from 'node:stream'
import { JOIN_FRAME_BELOW, LENGTH_PREFIX } from './constants.js'
import type { CipherState } from './noise/cipher-state.js'

/** A chunk as `Writable#_writev` hands it over with `decodeStrings: false`. */
export interface WriteChunk {
  chunk: Buffer | string
  encoding: BufferEncoding | 'buffer'
}

const isUtf8 = (encoding: string): boolean => encoding === 'utf8' || encoding === 'utf-8'

/**
 * At most the chunk's size in bytes: exact for a buffer; for a UTF-8 string its length in UTF-16 units,
 * which no encoding makes longer (an ASCII line, the common case, is exactly that) and which costs no
 * scan of the string; a string in another encoding is measured.
 */
const leastBytes = (c: WriteChunk): number =>
  typeof c.chunk !== 'string'
    ? c.chunk.length
    : isUtf8(c.encoding)
      ? c.chunk.length
      : Buffer.byteLength(c.chunk, c.encoding as BufferEncoding)

const toBuffer = (c: WriteChunk): Buffer =>
  typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding as BufferEncoding) : c.chunk

/**
 * Calls `frame` with the plaintext of each frame, in order: `chunks` cut at `max` bytes, joined
 * otherwise; every frame but the last is exactly `max` bytes. A buffer passed is valid only until
 * `frame` returns: the next frame's plaintext is written into it (one buffer per batch, however many
 * frames). A UTF-8 string that fits is encoded straight into the frame, without measuring it first
 * (`Buffer.byteLength` of every string was the largest cost of a batch of 4 KiB lines, measured).
 */
export function framePlaintexts(
  chunks: readonly WriteChunk[],
  max: number,
  frame: (plaintext: Buffer) => void,
): void {
  if (chunks.length === 1) {
    const all = toBuffer(chunks[0] as WriteChunk)
    for (let offset = 0; offset < all.length; offset += max) frame(all.subarray(offset, offset + max))
    return
  }
  // `rest`: at least how many bytes are still to place (the current chunk's included).
  let rest = 0
  for (const c of chunks) rest += leastBytes(c)
  if (rest === 0) return
  let out = Buffer.allocUnsafe(Math.min(max, Math.max(rest, 1)))
  let used = 0
  // Called with `out` full and bytes left: a frame short of `max` grows (a string had more bytes than
  // its length); a full one is handed on and its buffer reused.
  const room = (): void => {
    if (out.length < max) {
      const bigger = Buffer.allocUnsafe(Math.min(max, used + Math.max(rest, 1)))
      out.copy(bigger, 0, 0, used)
      out = bigger
      return
    }
    frame(out)
    used = 0
  }
  for (const c of chunks) {
    const least = leastBytes(c)
    if (c.chunk.length === 0) continue
    if (used === out.length) room()
    if (typeof c.chunk === 'string' && isUtf8(c.encoding) && c.chunk.length <= out.length - used) {
      // It may fit (it has at least `length` bytes): encode it in place. `write` writes whole
      // characters only (at most 4 bytes each), so 4 bytes of room left over prove it all fit; only a
      // string ending within 3 bytes of the frame's end is measured. Otherwise what was written is
      // overwritten below.
      const space = out.length - used
      const n = out.write(c.chunk, used)
      if (space - n >= 4 || n === Buffer.byteLength(c.chunk)) {
        used += n
        rest -= least
        continue
      }
    }
    // A chunk that crosses a frame boundary: copied piece by piece.
    const bytes = toBuffer(c)
    rest += bytes.length - least
    for (let offset = 0; offset < bytes.length; ) {
      if (used === out.length) room()
      const take = Math.min(bytes.length - offset, out.length - used)
      bytes.copy(out, used, offset, offset + take)
      used += take
      offset += take
      rest -= take
    }
  }
  if (used > 0) frame(used === out.length ? out : out.subarray(0, used))
}

/**
 * Encrypts `chunks` as transport frames with `cipher` and writes them to `socket`. Returns what the
 * last `socket.write` returned (false: wait for 'drain'); throws what the cipher throws
 * (`ERR_NONCE_EXHAUSTED`), after writing the frames encrypted before.
 */
export function writeFrames(
  socket: Writable,
  cipher: CipherState,
  chunks: readonly WriteChunk[],
  max: number,
): boolean {
  let ok = true
  framePlaintexts(chunks, max, (plaintext) => {
    const { body, tag } = cipher.encryptDetached(plaintext)
    const length = body.length + tag.length
    if (body.length < JOIN_FRAME_BELOW) {
      const frame = Buffer.allocUnsafe(LENGTH_PREFIX + length)
      frame.writeUInt16BE(length, 0)
      body.copy(frame, LENGTH_PREFIX)
      tag.copy(frame, LENGTH_PREFIX + body.length)
      ok = socket.write(frame)
      return
    }
    const head = Buffer.allocUnsafe(LENGTH_PREFIX)
    head.writeUInt16BE(length, 0)
    // Corked per frame, not per batch: each frame reaches the kernel as soon as it is encrypted, so
    // the peer decrypts one while this side encrypts the next.
    socket.cork()
    socket.write(head)
    socket.write(body)
    ok = socket.write(tag)
    socket.uncork()
  })
  return ok
}
