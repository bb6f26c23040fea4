// The transport frames without sockets: frame-writer's cutting and joining of written chunks, and
// frame-reader's parsing and decrypting of frames split at any byte, against each other and against
// CipherState's one-shot encryptWithAd/decryptWithAd (the handshake's path).
import { randomBytes } from 'node:crypto'
import { PassThrough } from 'node:stream'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_FRAME_PLAINTEXT, TAG_LENGTH } from '../src/constants.js'
import { SecureError } from '../src/errors.js'
import { FrameReader } from '../src/frame-reader.js'
import { framePlaintexts, type WriteChunk, writeFrames } from '../src/frame-writer.js'
import { CipherState } from '../src/noise/cipher-state.js'
import { cipherSuite, NOISE_CIPHERS, type NoiseCipher } from '../src/noise/cipher-suite.js'

const EMPTY = Buffer.alloc(0)

const arbitraryChunk: fc.Arbitrary<WriteChunk> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }).map((s) => ({ chunk: s, encoding: 'utf8' as const })),
  // 1- to 4-byte characters (surrogate pairs included): strings ending near a frame's end.
  fc.string({ unit: 'grapheme', maxLength: 60 }).map((s) => ({ chunk: s, encoding: 'utf8' as const })),
  fc.string({ maxLength: 40 }).map((s) => ({ chunk: s, encoding: 'latin1' as const })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ chunk: Buffer.from(b), encoding: 'buffer' as const })),
)
const bytesOf = (c: WriteChunk): Buffer =>
  typeof c.chunk === 'string' ? Buffer.from(c.chunk, c.encoding as BufferEncoding) : c.chunk

/**
 * A pair of cipher states with the same key: what one encrypts the other decrypts. The tests that
 * decrypt run once per cipher.
 */
function pair(cipher: NoiseCipher): { send: CipherState; receive: CipherState } {
  const key = randomBytes(32)
  const suite = cipherSuite(cipher)
  return { send: new CipherState(suite, key), receive: new CipherState(suite, key) }
}

/** The bytes writeFrames puts on a socket. */
function wire(cipher: CipherState, chunks: WriteChunk[], max = MAX_FRAME_PLAINTEXT): Buffer {
  const socket = new PassThrough()
  writeFrames(socket, cipher, chunks, max)
  socket.end()
  const out: Buffer[] = []
  for (let c = socket.read() as Buffer | null; c !== null; c = socket.read() as Buffer | null) out.push(c)
  return Buffer.concat(out)
}

/** Cuts `bytes` at the given offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let last = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(last, p))
    last = p
  }
  return out
}

for (const cipher of NOISE_CIPHERS)
  describe(`frame-writer (${cipher})`, () => {
    it('joins and cuts any chunks into full frames of at most max bytes, every byte once, in order', () => {
      fc.assert(
        fc.property(
          fc.array(arbitraryChunk, { maxLength: 20 }),
          fc.integer({ min: 1, max: 700 }),
          (chunks, max) => {
            const frames: Buffer[] = []
            framePlaintexts(chunks, max, (p) => frames.push(Buffer.from(p)))
            expect(Buffer.concat(frames)).toEqual(Buffer.concat(chunks.map(bytesOf)))
            for (const f of frames.slice(0, -1)) expect(f.length).toBe(max)
            expect(frames.every((f) => f.length > 0 && f.length <= max)).toBe(true)
          },
        ),
      )
    })

    it('splits a string whose last character does not fit in the frame, at the byte', () => {
      // '😀' is 2 UTF-16 units and 4 bytes: after 8 bytes, 2 bytes of a 10-byte frame are left.
      const chunks: WriteChunk[] = ['abcdefgh', '😀', 'xy', 'é'.repeat(3)].map((chunk) => ({
        chunk,
        encoding: 'utf8',
      }))
      const frames: Buffer[] = []
      framePlaintexts(chunks, 10, (p) => frames.push(Buffer.from(p)))
      expect(frames.map((f) => f.length)).toEqual([10, 10])
      expect(Buffer.concat(frames).toString()).toBe('abcdefgh😀xyééé')
    })

    it('sends the lines of one batch as one frame, and a write over 65,519 bytes as several', () => {
      const { send, receive } = pair(cipher)
      const lines = Array.from({ length: 100 }, (_, i) => ({
        chunk: `line ${i}\r\n`,
        encoding: 'utf8' as const,
      }))
      const one = wire(send, lines)
      expect(one.readUInt16BE(0)).toBe(one.length - 2) // a single frame
      const plain = receive.decryptWithAd(EMPTY, one.subarray(2))
      expect(plain.toString()).toBe(lines.map((l) => l.chunk).join(''))
      const big = randomBytes(2 * MAX_FRAME_PLAINTEXT + 5)
      const bytes = wire(send, [{ chunk: big, encoding: 'buffer' }])
      const parts: Buffer[] = []
      for (let at = 0; at < bytes.length; ) {
        const length = bytes.readUInt16BE(at)
        expect(length).toBeLessThanOrEqual(65_535)
        parts.push(receive.decryptWithAd(EMPTY, bytes.subarray(at + 2, at + 2 + length)))
        at += 2 + length
      }
      expect(parts.map((p) => p.length)).toEqual([MAX_FRAME_PLAINTEXT, MAX_FRAME_PLAINTEXT, 5])
      expect(Buffer.concat(parts)).toEqual(big)
    })
  })

for (const cipher of NOISE_CIPHERS)
  describe(`frame-reader (${cipher})`, () => {
    it('delivers every frame written, whatever the reads are cut into (fast-check)', () => {
      fc.assert(
        fc.property(
          fc.array(fc.array(arbitraryChunk, { maxLength: 8 }), { maxLength: 8 }),
          fc.integer({ min: 1, max: 5_000 }),
          fc.array(fc.nat(), { maxLength: 30 }),
          (batches, max, at) => {
            const { send, receive } = pair(cipher)
            const bytes = Buffer.concat(batches.map((b) => wire(send, b, max)))
            const reader = new FrameReader(receive)
            const got: Buffer[] = []
            for (const piece of cut(bytes, at)) reader.write(piece, (p) => got.push(p))
            expect(reader.partial).toBe(0)
            expect(Buffer.concat(got)).toEqual(Buffer.concat(batches.flat().map(bytesOf)))
          },
        ),
      )
    })

    it('delivers nothing of an altered frame and fails it with ERR_DECRYPT_FAILED', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3_000 }), fc.nat(), fc.nat(), (size, where, split) => {
          const { send, receive } = pair(cipher)
          const good = wire(send, [{ chunk: randomBytes(40), encoding: 'buffer' }])
          const bad = wire(send, [{ chunk: randomBytes(size), encoding: 'buffer' }])
          const i = 2 + (where % (bad.length - 2)) // any byte after the length
          bad[i] = (bad[i] as number) ^ 0x01
          const reader = new FrameReader(receive)
          const got: Buffer[] = []
          reader.write(good, (p) => got.push(p))
          const s = split % bad.length
          let error: unknown
          try {
            reader.write(bad.subarray(0, s), (p) => got.push(p))
            reader.write(bad.subarray(s), (p) => got.push(p))
          } catch (err) {
            error = err
          }
          expect(error).toBeInstanceOf(SecureError)
          expect((error as SecureError).code).toBe('ERR_DECRYPT_FAILED')
          expect(got.length).toBe(1) // the good frame only
        }),
      )
    })

    it('fails a length shorter than the tag at once, and reports a frame cut short', () => {
      const { receive } = pair(cipher)
      const reader = new FrameReader(receive)
      expect(() => reader.write(Buffer.from([0, TAG_LENGTH - 1]), () => {})).toThrow(SecureError)
      const other = new FrameReader(pair(cipher).receive)
      other.write(Buffer.from([0, 100, 1, 2, 3]), () => {})
      expect(other.partial).toBe(5)
    })
  })
