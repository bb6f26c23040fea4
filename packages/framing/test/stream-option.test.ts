// LineSocket over another stream running on the socket (the `stream` option, used for encrypted
// sessions): lines travel through the stream's transform, the socket still gives addresses, and a
// close on either side reaches the other. The stream here is a toy XOR layer over a real TCP socket.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { Duplex } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { LineSocket } from '../src/index.js'
import { bounded, type Loopback, loopback } from './helpers.js'

/** Every byte XOR 0x5a on the way out and in: whatever crosses the wire is not the plain text. */
class XorStream extends Duplex {
  readonly #socket: Socket
  constructor(socket: Socket) {
    super()
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(xor(chunk))) socket.pause()
    })
    socket.on('end', () => this.push(null))
    socket.on('close', () => this.destroy())
  }
  override _read(): void {
    this.#socket.resume()
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.#socket.write(xor(chunk), done)
  }
  override _final(done: (err?: Error | null) => void): void {
    this.#socket.end(done)
  }
  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#socket.destroy()
    done(err)
  }
}
const xor = (b: Buffer): Buffer => Buffer.from(b.map((x) => x ^ 0x5a))

let lb: Loopback | undefined
afterEach(async () => {
  await lb?.close()
  lb = undefined
})

describe('LineSocket over a stream (the `stream` option)', () => {
  it('carries lines through the stream, not the raw socket, and closes with it', async () => {
    lb = await loopback()
    const raw = connect(lb.port, '127.0.0.1')
    await bounded(once(raw, 'connect'), 'connect')
    const serverSocket = await lb.accept()
    const wire: Buffer[] = []
    serverSocket.on('data', (chunk: Buffer) => wire.push(chunk))
    const client = new LineSocket(raw, { stream: new XorStream(raw) })
    const server = new LineSocket(serverSocket, { stream: new XorStream(serverSocket) })

    expect(client.remotePort).toBe(lb.port)
    client.sendLine('hello through the stream')
    expect(await bounded(server.readLine(), 'line')).toBe('hello through the stream')
    server.sendLine('and back')
    expect(await bounded(client.readLine(), 'reply')).toBe('and back')
    expect(Buffer.concat(wire).toString()).not.toContain('hello')
    expect(xor(Buffer.concat(wire)).toString()).toBe('hello through the stream\r\n')

    client.close()
    const info = await bounded(server.closed, 'server close')
    expect(info.reason).toBe('peer')
    expect((await bounded(client.closed, 'client close')).reason).toBe('local')
    expect(raw.destroyed).toBe(true)
  })
})
