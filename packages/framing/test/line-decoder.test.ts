import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FramingError, LineDecoder } from '../src/index.js'

/** Reference: decode the whole input at once, the obvious way. */
function reference(bytes: Uint8Array, max: number): { lines: string[]; tooLong: boolean } {
  const buf = Buffer.from(bytes)
  const lines: string[] = []
  let start = 0
  for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
    const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl
    if (end - start > max) return { lines, tooLong: true }
    lines.push(buf.toString('utf8', start, end))
    start = nl + 1
  }
  const rest = buf.length - start
  // A partial line may hold one byte more than the limit if that byte is the `\r` of `\r\n`.
  const tooLong = rest > max + 1 || (rest === max + 1 && buf[buf.length - 1] !== 13)
  return { lines, tooLong }
}

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

function decodeChunks(chunks: Uint8Array[], max: number): { lines: string[]; tooLong: boolean } {
  const decoder = new LineDecoder({ maxLineLength: max })
  const lines: string[] = []
  try {
    for (const c of chunks) decoder.write(c, (line) => lines.push(line))
  } catch (err) {
    if (err instanceof FramingError && err.code === 'ERR_LINE_TOO_LONG') return { lines, tooLong: true }
    throw err
  }
  return { lines, tooLong: false }
}

describe('LineDecoder', () => {
  it('splits on \\n and \\r\\n, keeps a partial line until it ends', () => {
    const d = new LineDecoder()
    expect(d.decode(Buffer.from('a\r\nb\nc'))).toEqual(['a', 'b'])
    expect(d.pendingBytes).toBe(1)
    expect(d.decode(Buffer.from('d\r'))).toEqual([])
    expect(d.decode(Buffer.from('\n\n\r\n'))).toEqual(['cd', '', ''])
    expect(d.pendingBytes).toBe(0)
  })

  it('keeps a lone \\r inside a line and strips only the one before \\n', () => {
    const d = new LineDecoder()
    expect(d.decode(Buffer.from('a\rb\r\r\n'))).toEqual(['a\rb\r'])
  })

  it('decodes a UTF-8 character split across chunks at every byte', () => {
    const text = 'é€𝄞 ok'
    const bytes = Buffer.from(`${text}\r\n`)
    for (let i = 0; i <= bytes.length; i++) {
      for (let j = i; j <= bytes.length; j++) {
        const d = new LineDecoder()
        const lines = [
          ...d.decode(bytes.subarray(0, i)),
          ...d.decode(bytes.subarray(i, j)),
          ...d.decode(bytes.subarray(j)),
        ]
        expect(lines).toEqual([text])
      }
    }
  })

  it('accepts plain Uint8Array chunks', () => {
    const d = new LineDecoder()
    const u8 = new TextEncoder().encode('xx hello\n')
    expect(d.decode(u8.subarray(3))).toEqual(['hello'])
  })

  it('replaces invalid UTF-8 with U+FFFD instead of throwing', () => {
    const d = new LineDecoder()
    expect(d.decode(Uint8Array.of(0xff, 0x41, 0xc3, 0x0a))).toEqual(['\uFFFDA\uFFFD'])
  })

  it('accepts a line of exactly maxLineLength bytes with either delimiter, at any chunking', () => {
    for (const delimiter of ['\n', '\r\n']) {
      const bytes = Buffer.from(`${'x'.repeat(8)}${delimiter}`)
      for (let i = 0; i <= bytes.length; i++) {
        const d = new LineDecoder({ maxLineLength: 8 })
        expect([...d.decode(bytes.subarray(0, i)), ...d.decode(bytes.subarray(i))]).toEqual(['x'.repeat(8)])
      }
    }
  })

  it('fails as soon as a partial line exceeds maxLineLength, after delivering earlier lines', () => {
    const d = new LineDecoder({ maxLineLength: 8 })
    const lines: string[] = []
    d.write(Buffer.from('ok\n12345678'), (l) => lines.push(l))
    expect(d.pendingBytes).toBe(8)
    let error: unknown
    try {
      d.write(Buffer.from('9'), (l) => lines.push(l))
    } catch (err) {
      error = err
    }
    expect(lines).toEqual(['ok'])
    expect(error).toBeInstanceOf(FramingError)
    expect((error as FramingError).code).toBe('ERR_LINE_TOO_LONG')
    expect(d.pendingBytes).toBe(0)
    // The stream is unusable afterwards: the same error again, nothing buffered.
    expect(() => d.write(Buffer.from('\n'), () => {})).toThrow(error as Error)
    d.reset()
    expect(d.decode(Buffer.from('fine\n'))).toEqual(['fine'])
  })

  it('does not hold more than maxLineLength + 1 bytes of a partial line', () => {
    const d = new LineDecoder({ maxLineLength: 1000 })
    const big = Buffer.alloc(64 * 1024, 0x61)
    expect(() => d.write(big, () => {})).toThrow(FramingError)
    expect(d.pendingBytes).toBe(0)
    const d2 = new LineDecoder({ maxLineLength: 1000 })
    d2.decode(Buffer.alloc(1000, 0x61))
    d2.decode(Buffer.from('\r'))
    expect(d2.pendingBytes).toBe(1001)
    expect(() => d2.decode(Buffer.from('a'))).toThrow(FramingError)
  })

  it('an empty chunk after a partial line of maxLineLength + 1 bytes ending in \\r is not an error', () => {
    // Regression: the empty chunk's "last byte" was read as not-\r.
    const d = new LineDecoder({ maxLineLength: 3 })
    d.decode(Uint8Array.of(0x61, 0x62, 0x63, 13))
    expect(d.decode(new Uint8Array(0))).toEqual([])
    expect(d.decode(Uint8Array.of(10))).toEqual(['abc'])
  })

  it('decodes an input larger than one decoding span (16 MiB) in one write', () => {
    const line = `${'k'.repeat(97)}é\n` // 100 bytes
    const count = 170_000 // 17 MB: lines straddle the span boundary
    const d = new LineDecoder()
    let n = 0
    let bad = 0
    d.write(Buffer.from(line.repeat(count)), (l) => {
      n++
      if (l !== line.slice(0, -1)) bad++
    })
    expect({ n, bad }).toEqual({ n: count, bad: 0 })
  })

  it('rejects a bad maxLineLength', () => {
    expect(() => new LineDecoder({ maxLineLength: -1 })).toThrow(RangeError)
    expect(() => new LineDecoder({ maxLineLength: 1.5 })).toThrow(RangeError)
  })

  describe('properties', () => {
    const lineText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' '))
    const delimiter = fc.constantFrom('\n', '\r\n')

    it('any chunking of encoded lines gives back exactly those lines', () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(lineText, delimiter), { maxLength: 30 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          (lines, cuts) => {
            const bytes = Buffer.from(lines.map(([l, d]) => l + d).join(''))
            const got = decodeChunks(chunk(bytes, cuts), 1 << 20)
            expect(got).toEqual({ lines: lines.map(([l]) => l), tooLong: false })
          },
        ),
        { numRuns: 500 },
      )
    })

    it('random bytes at any chunking: same result as decoding at once, only typed errors', () => {
      const bytes = fc.uint8Array({ maxLength: 300 }).chain((raw) =>
        // Mix in plenty of \r and \n so lines, limits and delimiters at chunk edges all occur.
        fc.array(fc.constantFrom(10, 13, 0x61, 0xc3, 0xa9, 0xf0, 0x9d), { maxLength: 60 }).map((extra) => {
          const out = Uint8Array.from(raw)
          extra.forEach((b, i) => {
            if (out.length > 0) out[(i * 7919) % out.length] = b
          })
          return out
        }),
      )
      fc.assert(
        fc.property(
          bytes,
          fc.array(fc.nat(), { maxLength: 20 }),
          fc.integer({ min: 0, max: 40 }),
          (b, cuts, max) => {
            expect(decodeChunks(chunk(b, cuts), max)).toEqual(reference(b, max))
          },
        ),
        { numRuns: 1000 },
      )
    })
  })
})
