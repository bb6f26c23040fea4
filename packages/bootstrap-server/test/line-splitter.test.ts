/**
 * The listener's line splitting (issue 16, memory): whole-line chunks go through one shared decoder, a
 * connection holds a decoder of its own only while it has an unfinished line, and a line past the hard
 * limit refuses only its own connection.
 */
import { describe, expect, it } from 'vitest'
import type { Connection } from '../src/connection.js'
import { LineSplitter } from '../src/line-splitter.js'

/** The one field the splitter uses. */
function conn(): Connection {
  return { decoder: undefined } as unknown as Connection
}

function feed(splitter: LineSplitter, c: Connection, text: string): { ok: boolean; lines: string[] } {
  const lines: string[] = []
  const ok = splitter.write(c, Buffer.from(text, 'utf8'), (line) => lines.push(line))
  return { ok, lines }
}

describe('LineSplitter', () => {
  it('splits whole-line chunks without giving the connection a decoder', () => {
    const s = new LineSplitter(100)
    const a = conn()
    expect(feed(s, a, 'PING a\r\nBOOTSTRAP 1\r\n')).toEqual({ ok: true, lines: ['PING a', 'BOOTSTRAP 1'] })
    expect(a.decoder).toBeUndefined()
  })

  it('keeps an unfinished line per connection, interleaved with others, and drops it when whole', () => {
    const s = new LineSplitter(100)
    const a = conn()
    const b = conn()
    expect(feed(s, a, 'SOURCE T')).toEqual({ ok: true, lines: [] })
    expect(a.decoder?.pendingBytes).toBe(8)
    // Another connection's whole lines (the shared decoder) do not touch a's unfinished line.
    expect(feed(s, b, 'PING b\r\n').lines).toEqual(['PING b'])
    expect(feed(s, b, 'CLEAR\r\nPI').lines).toEqual(['CLEAR'])
    expect(feed(s, a, 'CP 5000\r').lines).toEqual([])
    expect(feed(s, a, '\nPING é\r\n').lines).toEqual(['SOURCE TCP 5000', 'PING é'])
    expect(a.decoder).toBeUndefined()
    expect(feed(s, b, 'NG c\r\n').lines).toEqual(['PING c'])
    expect(b.decoder).toBeUndefined()
  })

  it('a multi-byte character split across chunks decodes whole', () => {
    const s = new LineSplitter(100)
    const a = conn()
    const bytes = Buffer.from('PING ü\n', 'utf8')
    const lines: string[] = []
    s.write(a, bytes.subarray(0, 6), (l) => lines.push(l))
    s.write(a, bytes.subarray(6), (l) => lines.push(l))
    expect(lines).toEqual(['PING ü'])
  })

  it('a line over the limit refuses its connection only, in a whole chunk or an unfinished one', () => {
    const s = new LineSplitter(10)
    const a = conn()
    const b = conn()
    // Whole chunk (the shared decoder): the lines before it are delivered, then the refusal.
    expect(feed(s, a, `PING 1\n${'x'.repeat(11)}\n`)).toEqual({ ok: false, lines: ['PING 1'] })
    // The shared decoder is usable again for everyone else.
    expect(feed(s, b, 'PING 2\n')).toEqual({ ok: true, lines: ['PING 2'] })
    // Unfinished (b's own decoder): refused as soon as it is known to be too long.
    expect(feed(s, b, 'y'.repeat(6)).ok).toBe(true)
    expect(feed(s, b, 'y'.repeat(6)).ok).toBe(false)
    expect(b.decoder).toBeUndefined()
    expect(feed(s, conn(), 'PING 3\r\n')).toEqual({ ok: true, lines: ['PING 3'] })
    // Exactly the limit, with its \r\n, is a line.
    expect(feed(s, conn(), `${'z'.repeat(10)}\r\n`)).toEqual({ ok: true, lines: ['z'.repeat(10)] })
  })
})
