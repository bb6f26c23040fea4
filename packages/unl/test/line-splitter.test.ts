// The send side of a relayed connection (relay-lines.ts): what the application's LineSocket writes to
// the bridge is split back into lines and tagged, whatever the chunking.
import { describe, expect, it } from 'vitest'
import { LineSplitter, type WriteChunk } from '../src/line-splitter.js'

const text = (...chunks: string[]): WriteChunk[] => chunks.map((chunk) => ({ chunk, encoding: 'utf8' }))

describe('LineSplitter', () => {
  it('tags each whole line written as one chunk', () => {
    const s = new LineSplitter()
    expect(s.lines(text('one\r\n', '\r\n', 'a !SWITCH b\r\n'), '.')).toEqual(['.one', '.', '.a !SWITCH b'])
  })

  it('joins lines split across chunks and writes, and accepts a bare \\n', () => {
    const s = new LineSplitter()
    expect(s.lines(text('ab', 'c\r'), '.')).toEqual([])
    expect(s.lines(text('\nd\ne\r\nf'), '.')).toEqual(['.abc', '.d', '.e'])
    expect(s.lines(text('\r\n'), '.')).toEqual(['.f'])
  })

  it('decodes bytes, a character split between chunks included, in order with later text', () => {
    const s = new LineSplitter()
    const e = Buffer.from('é\r\n')
    const chunks: WriteChunk[] = [
      { chunk: Buffer.from('x'), encoding: 'buffer' as BufferEncoding },
      { chunk: e.subarray(0, 1), encoding: 'buffer' as BufferEncoding },
      { chunk: e.subarray(1), encoding: 'buffer' as BufferEncoding },
      { chunk: 'y\r\n', encoding: 'utf8' },
      { chunk: '7a0d0a', encoding: 'hex' },
    ]
    expect(s.lines(chunks, '.')).toEqual(['.xé', '.y', '.z'])
  })
})
