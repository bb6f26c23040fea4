import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { type CloseInfo, connectLine, FramingError, LineSocket } from '../src/index.js'
import { bounded, type Loopback, loopback, receivedAtLeast } from './helpers.js'

let lo: Loopback
const open: LineSocket[] = []
const rawSockets: Socket[] = []

beforeEach(async () => {
  lo = await loopback()
})
afterEach(async () => {
  for (const c of open.splice(0)) c.close()
  for (const s of rawSockets.splice(0)) s.destroy()
  await lo.close()
})

/** A raw client socket and the server side wrapped in a LineSocket. */
async function pair(options: ConstructorParameters<typeof LineSocket>[1] = {}) {
  const client = connect(lo.port, '127.0.0.1')
  rawSockets.push(client)
  await bounded(once(client, 'connect'), 'connect')
  const server = new LineSocket(await lo.accept(), options)
  open.push(server)
  return { client, server }
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<FramingError> {
  const err = await bounded(
    promise.then(
      () => undefined,
      (e: unknown) => e,
    ),
    code,
  )
  expect(err).toBeInstanceOf(FramingError)
  expect((err as FramingError).code).toBe(code)
  return err as FramingError
}

describe('LineSocket over loopback', () => {
  it('delivers lines split at every byte boundary, including inside UTF-8 and \\r\\n', async () => {
    const { client, server } = await pair()
    const payload = Buffer.from('héllo wörld €𝄞\r\nsecond\nthird\r\n')
    const expected = ['héllo wörld €𝄞', 'second', 'third']
    let sent = 0
    for (let k = 1; k < payload.length; k++) {
      client.write(payload.subarray(0, k))
      sent += k
      await receivedAtLeast(server.socket, sent)
      // Only lines that are whole by byte k came out.
      const whole = payload.subarray(0, k).toString('latin1').split('\n').length - 1
      const early = [...server]
      expect(early).toEqual(expected.slice(0, whole))
      client.write(payload.subarray(k))
      sent += payload.length - k
      const rest: string[] = []
      while (rest.length < expected.length - whole) rest.push(await server.readLine({ timeout: 20_000 }))
      expect(rest).toEqual(expected.slice(whole))
    }
  })

  it('sync iteration yields only whole lines and returns at once when none is whole', async () => {
    const { client, server } = await pair()
    expect([...server]).toEqual([])
    client.write('one\r\ntwo\npart')
    await receivedAtLeast(server.socket, 13)
    expect([...server]).toEqual(['one', 'two'])
    expect([...server]).toEqual([])
    client.write('ial\n')
    await receivedAtLeast(server.socket, 17)
    expect([...server]).toEqual(['partial'])
  })

  it('for await yields lines in order and ends when the peer closes; queued lines survive the close', async () => {
    const { client, server } = await pair()
    client.end('a\nb\r\nc\nunterminated')
    const got: string[] = []
    for await (const line of server) got.push(line)
    expect(got).toEqual(['a', 'b', 'c'])
    expect(await bounded(server.closed, 'closed')).toEqual({ reason: 'peer' })
    await expectCode(server.readLine(), 'ERR_CONNECTION_CLOSED')
  })

  it("emits 'line' events; lines queued before the listener come first, in order", async () => {
    const { client, server } = await pair()
    client.write('q1\nq2\n')
    await receivedAtLeast(server.socket, 6)
    expect(server.queuedLines).toBe(2)
    const got: string[] = []
    const all = new Promise<void>((resolve) =>
      server.on('line', (line) => {
        got.push(line)
        if (got.length === 4) resolve()
      }),
    )
    client.write('e1\ne2\n')
    await bounded(all, 'four lines')
    expect(got).toEqual(['q1', 'q2', 'e1', 'e2'])
    expect(server.queuedLines).toBe(0)
  })

  it('removeAllListeners() keeps handing queued lines to the next line listener', async () => {
    const { client, server } = await pair()
    server.on('line', () => {})
    server.removeAllListeners()
    client.write('kept\n')
    await receivedAtLeast(server.socket, 5)
    expect(server.queuedLines).toBe(1)
    const got = new Promise<string>((resolve) => server.on('line', resolve))
    expect(await bounded(got, 'queued line')).toBe('kept')
  })

  it("a once('line') listener gets one line; the rest of the same chunk is queued, not lost", async () => {
    const { client, server } = await pair()
    const first = new Promise<string>((resolve) => server.once('line', resolve))
    client.write('hello\nsecond\nthird\n') // one write: one chunk on loopback
    expect(await bounded(first, 'first line')).toBe('hello')
    await receivedAtLeast(server.socket, 19)
    expect([...server]).toEqual(['second', 'third'])
  })

  it('concurrent readLine calls and for await share the lines in order, each once', async () => {
    const { client, server } = await pair()
    const a = server.readLine()
    const b = server.readLine()
    client.write('1\n2\n3\n4\n')
    expect(await bounded(Promise.all([a, b]), 'two lines')).toEqual(['1', '2'])
    const rest: string[] = []
    for await (const line of server) {
      rest.push(line)
      if (rest.length === 2) break
    }
    expect(rest).toEqual(['3', '4'])
    // Leaving a for await loop does not close the connection.
    expect(server.isOpen).toBe(true)
    client.write('5\n')
    expect(await server.readLine({ timeout: 20_000 })).toBe('5')
  })

  it('close() inside a line listener stops delivery of the rest of the chunk', async () => {
    const { client, server } = await pair()
    const got: string[] = []
    server.on('line', (line) => {
      got.push(line)
      server.close()
    })
    client.write('a\nb\nc\n')
    expect((await bounded(server.closed, 'closed')).reason).toBe('local')
    expect(got).toEqual(['a'])
    expect([...server]).toEqual([])
  })

  it('a line listener that throws ends the connection (reason error) and the exception propagates', async () => {
    const { server } = await pair()
    const boom = new Error('listener bug')
    server.on('line', () => {
      throw boom
    })
    // Feed the socket's data event directly so the exception surfaces here, not as an uncaught one.
    expect(() => server.socket.emit('data', Buffer.from('a\nb\n'))).toThrow(boom)
    expect(server.isOpen).toBe(false)
    expect(await bounded(server.closed, 'closed')).toEqual({ reason: 'error', error: boom })
  })

  it('sendLine writes \\r\\n; readLine reads replies (the original recv_line)', async () => {
    const { client, server } = await pair()
    const echo = new LineSocket(client)
    open.push(echo)
    echo.on('line', (line) => echo.sendLine(`ECHO ${line}`))
    expect(server.sendLine('ping ✓')).toBe(true)
    expect(await server.readLine({ timeout: 20_000 })).toBe('ECHO ping ✓')
    const raw: Buffer[] = []
    server.socket.on('data', (d: Buffer) => raw.push(d))
    echo.sendLine('x')
    await receivedAtLeast(server.socket, server.socket.bytesRead + 1)
    await server.readLine({ timeout: 20_000 })
    expect(Buffer.concat(raw).toString()).toBe('x\r\n')
  })

  it('sendLine refuses text containing \\r or \\n, and lines over maxLineLength', async () => {
    const { server } = await pair({ maxLineLength: 10 })
    expect(() => server.sendLine('a\nb')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_LINE' }))
    expect(() => server.sendLine('a\rb')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_LINE' }))
    expect(() => server.sendLine('x'.repeat(11))).toThrow(
      expect.objectContaining({ code: 'ERR_LINE_TOO_LONG' }),
    )
    expect(() => server.sendLine('€'.repeat(4))).toThrow(
      expect.objectContaining({ code: 'ERR_LINE_TOO_LONG' }),
    )
    expect(server.sendLine('€'.repeat(3))).toBe(true)
    expect(server.isOpen).toBe(true)
  })

  it('readLine honours signal and timeout and leaves the connection usable', async () => {
    const { client, server } = await pair()
    const ac = new AbortController()
    const pending = server.readLine({ signal: ac.signal })
    ac.abort(new Error('stop'))
    const aborted = await expectCode(pending, 'ERR_ABORTED')
    expect((aborted.cause as Error).message).toBe('stop')
    await expectCode(server.readLine({ timeout: 1 }), 'ERR_READ_TIMEOUT')
    await expectCode(server.readLine({ signal: AbortSignal.abort() }), 'ERR_ABORTED')
    client.write('still here\n')
    expect(await server.readLine({ timeout: 20_000 })).toBe('still here')
  })

  it('close() is idempotent, emits close once with reason local, and rejects pending reads', async () => {
    const { client, server } = await pair()
    const events: CloseInfo[] = []
    server.on('close', (info) => events.push(info))
    const pending = server.readLine()
    server.close()
    server.close()
    expect(server.isOpen).toBe(false)
    await expectCode(pending, 'ERR_CONNECTION_CLOSED')
    expect(() => server.sendLine('x')).toThrow(expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }))
    expect(await bounded(server.closed, 'closed')).toEqual({ reason: 'local' })
    server.close()
    expect(events).toEqual([{ reason: 'local' }])
    await bounded(once(client, 'end'), 'peer sees FIN')
  })

  it('flushes lines sent just before close()', async () => {
    const { client, server } = await pair()
    const peer = new LineSocket(client)
    open.push(peer)
    server.sendLine('ERROR ERR_LIMIT bye')
    server.close()
    const got: string[] = []
    for await (const line of peer) got.push(line)
    expect(got).toEqual(['ERROR ERR_LIMIT bye'])
    expect((await bounded(peer.closed, 'peer closed')).reason).toBe('peer')
  })

  it('close() after the peer closed first finishes at once', async () => {
    const { client, server } = await pair({ closeTimeout: 60_000 })
    client.end('last\n')
    expect(await server.readLine({ timeout: 20_000 })).toBe('last')
    await bounded(once(server.socket, 'finish'), 'our side ended too')
    server.close()
    // Not held for closeTimeout (60 s, longer than the wait bound): the socket is destroyed at once.
    expect((await bounded(server.closed, 'closed')).reason).toBe('local')
  })

  it('reports a reset by the peer as reason error', async () => {
    const { client, server } = await pair()
    client.write('x\n')
    await receivedAtLeast(server.socket, 2)
    client.resetAndDestroy()
    const info = await bounded(server.closed, 'closed')
    expect(info.reason).toBe('error')
    expect((info.error as NodeJS.ErrnoException).code).toBe('ECONNRESET')
    expect([...server]).toEqual(['x'])
  })

  it('ends the connection with ERR_LINE_TOO_LONG (reason limit), keeping earlier lines', async () => {
    const { client, server } = await pair({ maxLineLength: 100 })
    client.write(`ok\n${'y'.repeat(100)}\r\n${'z'.repeat(101)}\n`)
    const info = await bounded(server.closed, 'closed')
    expect(info.reason).toBe('limit')
    expect(info.error).toBeInstanceOf(FramingError)
    expect((info.error as FramingError).code).toBe('ERR_LINE_TOO_LONG')
    expect([...server]).toEqual(['ok', 'y'.repeat(100)])
    await expectCode(server.readLine(), 'ERR_CONNECTION_CLOSED')
  })

  it('pauses the socket when unread lines hit maxQueuedLines, and loses nothing', async () => {
    const { client, server } = await pair({ maxQueuedLines: 100 })
    const total = 20_000
    let payload = ''
    for (let i = 0; i < total; i++) payload += `line ${i}\n`
    client.write(payload)
    // Wait for the pause: the queue is full, the rest stays in the kernel (TCP backpressure).
    await bounded(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (server.socket.isPaused()) {
            server.socket.off('data', check)
            resolve()
          }
        }
        server.socket.on('data', check)
        check()
      }),
      'pause',
    )
    expect(server.queuedLines).toBeGreaterThanOrEqual(100)
    expect(server.queuedLines).toBeLessThan(total)
    const got: string[] = [...server]
    for await (const line of server) {
      got.push(line)
      if (got.length === total) break
    }
    expect(got.length).toBe(total)
    expect(got.every((line, i) => line === `line ${i}`)).toBe(true)
  })

  it('pauses on maxQueuedChars too: a few long lines fill the queue', async () => {
    const { client, server } = await pair({ maxQueuedChars: 10_000 })
    const line = 'L'.repeat(1000)
    const total = 2000 // 2 MB: more than the kernel buffers, so the pause is what holds it back
    client.write(`${line}\n`.repeat(total))
    await bounded(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (server.socket.isPaused()) {
            server.socket.off('data', check)
            resolve()
          }
        }
        server.socket.on('data', check)
        check()
      }),
      'pause',
    )
    expect(server.queuedLines).toBeGreaterThanOrEqual(10)
    expect(server.queuedLines).toBeLessThan(100)
    let n = 0
    for await (const got of server) {
      if (got !== line) throw new Error(`line ${n} differs`)
      if (++n === total) break
    }
    expect(n).toBe(total)
  })

  it('turns TCP keep-alive on (first probe after 5 s) and Nagle off by default, and not when told', async () => {
    const first = await pair()
    const keepAlive = vi.spyOn(first.client, 'setKeepAlive')
    const noDelay = vi.spyOn(first.client, 'setNoDelay')
    open.push(new LineSocket(first.client))
    expect(keepAlive).toHaveBeenCalledWith(true, 5000)
    expect(noDelay).toHaveBeenCalledWith(true)
    const second = await pair()
    const keepAlive2 = vi.spyOn(second.client, 'setKeepAlive')
    const noDelay2 = vi.spyOn(second.client, 'setNoDelay')
    open.push(new LineSocket(second.client, { keepAlive: false, noDelay: false }))
    expect(keepAlive2).not.toHaveBeenCalled()
    expect(noDelay2).not.toHaveBeenCalled()
  })

  it('rejects invalid limits with a RangeError', async () => {
    const { client } = await pair()
    expect(() => new LineSocket(client, { maxQueuedLines: 0 })).toThrow(RangeError)
    expect(() => new LineSocket(client, { maxLineLength: Number.NaN })).toThrow(RangeError)
    expect(() => new LineSocket(client, { maxSendBuffer: -1 })).toThrow(RangeError)
  })

  it('reads bytes handed over in head before the socket data', async () => {
    const client = connect(lo.port, '127.0.0.1')
    rawSockets.push(client)
    await bounded(once(client, 'connect'), 'connect')
    const raw = await lo.accept()
    const server = new LineSocket(raw, { head: Buffer.from('from-he') })
    open.push(server)
    client.write('ad\nnext\n')
    expect(await server.readLine({ timeout: 20_000 })).toBe('from-head')
    expect(await server.readLine({ timeout: 20_000 })).toBe('next')
  })

  it('wrapping an already closed socket reports close', async () => {
    const { client } = await pair()
    client.destroy()
    await bounded(once(client, 'close'), 'client close')
    const late = new LineSocket(client)
    expect((await bounded(late.closed, 'closed')).reason).toBe('peer')
    expect(late.isOpen).toBe(false)
  })
})

describe('connectLine', () => {
  it('connects, with keep-alive and a chosen local address, and exchanges lines', async () => {
    const con = await connectLine({
      host: '127.0.0.1',
      port: lo.port,
      localAddress: '127.0.0.1',
      timeout: 20_000,
    })
    open.push(con)
    const peer = new LineSocket(await lo.accept())
    open.push(peer)
    expect(con.remotePort).toBe(lo.port)
    expect(peer.remotePort).toBe(con.localPort)
    con.sendLine('hi')
    expect(await peer.readLine({ timeout: 20_000 })).toBe('hi')
    await using disposable = con
    expect(disposable.isOpen).toBe(true)
  })

  it('connects from the requested localPort', async () => {
    // Ask the OS for a free port, release it, and connect from it.
    const probe = await loopback()
    const localPort = probe.port
    await probe.close()
    const con = await connectLine({ host: '127.0.0.1', port: lo.port, localPort, timeout: 20_000 })
    open.push(con)
    expect(con.localPort).toBe(localPort)
    const peer = await lo.accept()
    expect(peer.remotePort).toBe(localPort)
  })

  it('rejects with ERR_CONNECT_FAILED (cause ECONNREFUSED) when nothing listens', async () => {
    const port = lo.port
    await lo.close()
    lo = await loopback()
    const err = await expectCode(
      connectLine({ host: '127.0.0.1', port, timeout: 20_000 }),
      'ERR_CONNECT_FAILED',
    )
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
  })

  it('rejects with ERR_ABORTED when the signal fires, before or during the connect', async () => {
    await expectCode(
      connectLine({ host: '127.0.0.1', port: lo.port, signal: AbortSignal.abort() }),
      'ERR_ABORTED',
    )
    const ac = new AbortController()
    const pending = connectLine({ host: '127.0.0.1', port: lo.port, signal: ac.signal })
    ac.abort()
    await expectCode(pending, 'ERR_ABORTED')
  })

  it('rejects with ERR_CONNECT_TIMEOUT when the connect does not finish in time', async () => {
    // A resolver that never answers keeps the connect pending without any traffic.
    const err = await expectCode(
      connectLine({ host: 'never.invalid', port: lo.port, timeout: 50, lookup: () => {} }),
      'ERR_CONNECT_TIMEOUT',
    )
    expect(err.message).toContain('50 ms')
  })
})
