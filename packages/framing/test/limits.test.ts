import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { connectLine, FramingError, LineSocket } from '../src/index.js'
import { bounded, type Loopback, loopback, receivedAtLeast } from './helpers.js'

let lo: Loopback
const cleanup: (() => void)[] = []

beforeEach(async () => {
  lo = await loopback()
})
afterEach(async () => {
  for (const fn of cleanup.splice(0)) fn()
  await lo.close()
})

async function rawClient(): Promise<Socket> {
  const s = connect(lo.port, '127.0.0.1')
  cleanup.push(() => s.destroy())
  await bounded(once(s, 'connect'), 'connect')
  return s
}

function track(con: LineSocket): LineSocket {
  cleanup.push(() => con.close())
  return con
}

/** Writes `total` bytes from `chunk` repeatedly, honouring backpressure; stops early if the socket dies. */
async function flood(socket: Socket, chunk: Buffer, total: number): Promise<number> {
  let written = 0
  while (written < total && !socket.destroyed) {
    written += chunk.length
    if (!socket.write(chunk)) {
      // Plain listeners: events.once() would reject on the socket's 'error' (we expect a reset).
      const drained = await bounded(
        new Promise<boolean>((resolve) => {
          const done = (ok: boolean) => (): void => {
            socket.off('drain', onDrain)
            socket.off('close', onClose)
            resolve(ok)
          }
          const onDrain = done(true)
          const onClose = done(false)
          socket.on('drain', onDrain)
          socket.on('close', onClose)
        }),
        'drain',
      )
      if (!drained) break
    }
  }
  return written
}

describe('volume and limits over loopback', () => {
  it('a million lines arrive whole and in order (sendLine in, line events and for await out)', async () => {
    const sender = track(await connectLine({ host: '127.0.0.1', port: lo.port, timeout: 20_000 }))
    const receiver = track(new LineSocket(await lo.accept()))
    const total = 1_000_000
    const received = new Promise<number>((resolve, reject) => {
      let next = 0
      receiver.on('line', (line) => {
        if (line !== `msg ${next} é`) reject(new Error(`line ${next}: got ${JSON.stringify(line)}`))
        next++
        if (next === total) resolve(next)
      })
    })
    for (let i = 0; i < total; i++) {
      if (!sender.sendLine(`msg ${i} é`)) await sender.drain({ signal: AbortSignal.timeout(20_000) })
    }
    expect(await bounded(received, 'a million lines', 60_000)).toBe(total)

    // The other way round, read with for await.
    let payload = ''
    for (let i = 0; i < 100_000; i++) payload += `r${i}\n`
    receiver.socket.write(payload)
    receiver.socket.end()
    let n = 0
    for await (const line of sender) {
      if (line !== `r${n}`) throw new Error(`line ${n}: got ${line}`)
      n++
    }
    expect(n).toBe(100_000)
  })

  it('a 100 MB flood without a newline is cut off at maxLineLength; memory stays flat; others are served', async () => {
    const maxLineLength = 1024 * 1024
    const flooder = await rawClient()
    // We reset the flooder's connection; it sees ECONNRESET or EPIPE.
    const flooderError = new Promise<NodeJS.ErrnoException>((resolve) => flooder.once('error', resolve))
    const floodSide = track(new LineSocket(await lo.accept(), { maxLineLength }))
    // An echo service on a second connection, to show the process keeps serving during the flood.
    const other = track(await connectLine({ host: '127.0.0.1', port: lo.port, timeout: 20_000 }))
    const otherServer = track(new LineSocket(await lo.accept()))
    otherServer.on('line', (line) => otherServer.sendLine(`ECHO ${line}`))

    global.gc?.()
    const before = process.memoryUsage()
    const chunk = Buffer.alloc(64 * 1024, 0x61)
    const flooding = flood(flooder, chunk, 100 * 1024 * 1024)
    // Mid-flood (half the limit in), the other connection still gets answers.
    await receivedAtLeast(floodSide.socket, maxLineLength / 2)
    other.sendLine('are you there?')
    expect(await other.readLine({ timeout: 20_000 })).toBe('ECHO are you there?')

    const info = await bounded(floodSide.closed, 'flood connection closed')
    expect(info.reason).toBe('limit')
    expect((info.error as FramingError).code).toBe('ERR_LINE_TOO_LONG')
    const written = await flooding
    expect(['ECONNRESET', 'EPIPE']).toContain((await bounded(flooderError, 'flooder error')).code)
    // Read no more than the limit plus what was in flight in one read; the flooder was cut off.
    expect(floodSide.socket.bytesRead).toBeLessThanOrEqual(maxLineLength + 2 * 64 * 1024)
    expect(written).toBeLessThan(100 * 1024 * 1024)
    const after = process.memoryUsage()
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024)
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024)

    other.sendLine('still there?')
    expect(await other.readLine({ timeout: 20_000 })).toBe('ECHO still there?')
  })

  it('a never-reading peer: sendLine reports backpressure, then fails with ERR_SEND_BUFFER_FULL', async () => {
    const maxSendBuffer = 1024 * 1024
    const con = track(await connectLine({ host: '127.0.0.1', port: lo.port, maxSendBuffer, timeout: 20_000 }))
    const peer = await lo.accept()
    peer.pause() // never reads
    const line = 'x'.repeat(16 * 1024)
    let sawBackpressure = false
    let error: unknown
    // Ignore backpressure on purpose, yielding so the kernel buffers fill; the cap must end it.
    for (let i = 0; i < 100_000 && error === undefined; i++) {
      try {
        if (!con.sendLine(line)) sawBackpressure = true
        expect(con.socket.writableLength).toBeLessThanOrEqual(maxSendBuffer)
      } catch (err) {
        error = err
      }
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    expect(sawBackpressure).toBe(true)
    expect(error).toBeInstanceOf(FramingError)
    expect((error as FramingError).code).toBe('ERR_SEND_BUFFER_FULL')
    const info = await bounded(con.closed, 'closed')
    expect(info).toEqual({ reason: 'limit', error })
    expect(() => con.sendLine('more')).toThrow(expect.objectContaining({ code: 'ERR_CONNECTION_CLOSED' }))
  })

  it('drain() resolves once a slow peer reads, and rejects if the connection closes first', async () => {
    const con = track(
      await connectLine({ host: '127.0.0.1', port: lo.port, timeout: 20_000, closeTimeout: 100 }),
    )
    const peer = await lo.accept()
    peer.pause()
    const line = 'y'.repeat(64 * 1024)
    // Fill until the kernel is full and our own buffer is above the high-water mark.
    for (;;) {
      if (!con.sendLine(line)) {
        const drained = await bounded(
          Promise.race([
            con.drain().then(() => true),
            new Promise<boolean>((resolve) => setImmediate(() => setImmediate(() => resolve(false)))),
          ]),
          'drain or a turn of the loop',
        )
        if (!drained) break
      }
    }
    const waiting = con.drain()
    peer.resume()
    await bounded(waiting, 'drain after the peer reads')

    // Above the high-water mark right now, so this drain() is pending when close() is called.
    while (con.sendLine(line));
    const stuck = con.drain()
    con.close()
    const err = await bounded(
      stuck.then(
        () => undefined,
        (e: unknown) => e,
      ),
      'drain rejected',
    )
    expect((err as FramingError).code).toBe('ERR_CONNECTION_CLOSED')
    // A peer that never reads cannot hold a closed connection open: closeTimeout destroys it.
    expect((await bounded(con.closed, 'closed')).reason).toBe('local')
  })
})
