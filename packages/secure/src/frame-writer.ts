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

const byteLength = (c: WriteChunk): number =>
  typeof c.chunk === 'string' ? Buffer.byteLength(c.chunk, c.encoding as BufferEncoding) : c.chunk.length

const toBuffer = (c: WriteChunk): Buffer =>
  typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding as BufferEncoding) : c.chunk

/**
 * Calls `frame` with the plaintext of each frame, in order: `chunks` cut at `max` bytes, joined
 * otherwise. A buffer passed is valid only until `frame` returns: the next frame's plaintext is
 * written into it (one buffer per batch, however many frames).
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
  const lengths = chunks.map(byteLength)
  let left = 0
  for (const n of lengths) left += n
  if (left === 0) return
  let out = Buffer.allocUnsafe(Math.min(left, max))
  let used = 0
  // Hands the full frame on; the next one reuses its buffer (`frame` is done with it on return).
  const flush = (): void => {
    frame(out)
    left -= used
    used = 0
    if (left > 0 && left < out.length) out = out.subarray(0, left)
  }
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i] as WriteChunk
    const n = lengths[i] as number
    if (n === 0) continue
    if (n <= out.length - used) {
      if (typeof c.chunk === 'string') out.write(c.chunk, used, c.encoding as BufferEncoding)
      else c.chunk.copy(out, used)
      used += n
      if (used === out.length) flush()
      continue
    }
    // The chunk crosses a frame boundary: copy it piece by piece.
    const bytes = toBuffer(c)
    for (let offset = 0; offset < n; ) {
      const take = Math.min(n - offset, out.length - used)
      bytes.copy(out, used, offset, offset + take)
      used += take
      offset += take
      if (used === out.length) flush()
    }
  }
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
