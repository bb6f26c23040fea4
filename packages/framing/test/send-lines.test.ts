// `sendLines()`: several lines in one write (what a relayed connection uses to forward a batch), with
// the same checks as `sendLine()` made on every line before any of them is written.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { LineSocket } from '../src/index.js'
import { bounded, type Loopback, loopback } from './helpers.js'

/** Passes bytes through to the socket unchanged, counting the writes it is given. */
class CountingStream extends Duplex {
  writes = 0
  readonly #socket: Socket
  constructor(socket: Socket) {
    super()
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('close', () => this.destroy())
  }
  override _read(): void {
    this.#socket.resume()
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.writes++
    this.#socket.write(chunk, done)
  }
  override _final(done: (err?: Error | null) => void): void {
    this.#socket.end(done)
  }
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#socket.destroy()
    done(err)
  }
}

let lb: Loopback | undefined
const open: LineSocket[] = []
afterEach(async () => {
  for (const con of open.splice(0)) con.close()
  await lb?.close()
  lb = undefined
})

async function pair(
  maxLineLength?: number,
): Promise<{ out: LineSocket; stream: CountingStream; in: LineSocket }> {
  lb = await loopback()
  const raw = connect(lb.port, '127.0.0.1')
  await bounded(once(raw, 'connect'), 'connect')
  const stream = new CountingStream(raw)
  const out = new LineSocket(raw, { stream, ...(maxLineLength !== undefined && { maxLineLength }) })
  const incoming = new LineSocket(await lb.accept())
  open.push(out, incoming)
  return { out, stream, in: incoming }
}

describe('LineSocket#sendLines', () => {
  it('sends every line, in order, in one write', async () => {
    const p = await pair()
    expect(p.out.sendLines(['first', '', 'third line', 'é ü'])).toBe(true)
    const got: string[] = []
    for (let i = 0; i < 4; i++) got.push(await bounded(p.in.readLine(), `line ${i}`))
    expect(got).toEqual(['first', '', 'third line', 'é ü'])
    expect(p.stream.writes).toBe(1)
  })

  it('sends nothing when one line is invalid or too long, and says why', async () => {
    const p = await pair(10)
    expect(() => p.out.sendLines(['fine', 'bad\nline'])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LINE' }),
    )
    expect(() => p.out.sendLines(['fine', 'bad\rline'])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_LINE' }),
    )
    expect(() => p.out.sendLines(['fine', 'x'.repeat(11)])).toThrow(
      expect.objectContaining({ code: 'ERR_LINE_TOO_LONG' }),
    )
    expect(p.out.sendLines([])).toBe(true)
    expect(p.out.isOpen).toBe(true)
    p.out.sendLine('next')
    expect(await bounded(p.in.readLine(), 'the line after the refused batches')).toBe('next')
    expect(p.stream.writes).toBe(1)
  })

  it('refuses on a closed connection', async () => {
    const p = await pair()
    p.out.close()
    expect(() => p.out.sendLines(['late'])).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }),
    )
  })
})
