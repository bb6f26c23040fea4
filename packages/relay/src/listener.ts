/**
 * The relay on its own port (`CircuitRelay#listen`): greets every connection with
 * `HELLO PYP2P-CIRCUIT/1 <ip> <port>`, reads its first line, and hands it to the relay: a `CONNECT`
 * or `ACCEPT` connection becomes a raw circuit end, a `RESERVE` connection a line connection.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { LineDecoder, LineSocket, plainAddress } from '@pyp2p/framing'
import type { CircuitRelay } from './circuit-relay.js'
import { CIRCUIT_PROTOCOL, MAX_CONTROL_LINE } from './constants.js'
import { CircuitError } from './errors.js'
import { formatError, parseClientLine } from './protocol.js'
import type { ControlConnection } from './reservations.js'

export interface ListenOptions {
  host?: string
  port?: number
  signal?: AbortSignal
}

export class RelayListener {
  readonly #relay: CircuitRelay
  readonly #server: Server
  readonly #sockets = new Set<Socket>()

  constructor(relay: CircuitRelay) {
    this.#relay = relay
    this.#server = createServer({ noDelay: true }, (s) => this.#onSocket(s))
  }

  /** Resolves with the bound address; rejects with `ERR_ABORTED` or the listen error. */
  async listen(o: ListenOptions = {}): Promise<AddressInfo> {
    if (o.signal?.aborted) throw CircuitError.ABORTED(o.signal.reason)
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen({ host: o.host ?? '0.0.0.0', port: o.port ?? 0 }, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    return this.#server.address() as AddressInfo
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.#server.close(() => r()))
    for (const s of this.#sockets) s.destroy()
    await closed
  }

  #onSocket(socket: Socket): void {
    const ip = plainAddress(socket.remoteAddress ?? '')
    this.#sockets.add(socket)
    socket.on('error', () => {})
    socket.once('close', () => this.#sockets.delete(socket))
    socket.setTimeout(this.#relay.options.handshakeTimeout, () => socket.destroy())
    socket.write(`HELLO ${CIRCUIT_PROTOCOL} ${ip} ${socket.remotePort ?? 0}\r\n`)
    const decoder = new LineDecoder({ maxLineLength: MAX_CONTROL_LINE })
    const onData = (chunk: Buffer): void => {
      let first: string | undefined
      try {
        decoder.write(chunk, (line) => {
          first ??= line
        })
      } catch {
        socket.destroy()
        return
      }
      if (first === undefined) return
      socket.off('data', onData)
      socket.pause()
      socket.setTimeout(0)
      this.#route(socket, ip, first)
    }
    socket.on('data', onData)
  }

  #route(socket: Socket, ip: string, line: string): void {
    let type: string
    try {
      type = parseClientLine(line).type
    } catch (err) {
      socket.end(`${formatError('ERR_PROTOCOL', (err as Error).message)}\r\n`)
      return
    }
    if (type === 'CONNECT' || type === 'ACCEPT') {
      const conn = rawConnection(socket, ip)
      this.#relay.handleLine(conn, line, () => socket)
      return
    }
    const lines = new LineSocket(socket, { maxLineLength: MAX_CONTROL_LINE })
    const conn: ControlConnection = {
      ip,
      get isOpen() {
        return lines.isOpen
      },
      send: (l) => lines.isOpen && lines.sendLine(l),
      close: (code, text) => {
        if (code !== undefined && lines.isOpen) lines.sendLine(formatError(code, text ?? ''))
        socket.end()
      },
    }
    lines.on('line', (l) => this.#relay.handleLine(conn, l, () => socket))
    lines.on('close', () => this.#relay.connectionClosed(conn))
    if (socket.isPaused()) socket.resume()
    this.#relay.handleLine(conn, line, () => socket)
  }
}

/** A connection about to become a circuit end: errors go straight to its socket. */
function rawConnection(socket: Socket, ip: string): ControlConnection {
  return {
    ip,
    get isOpen() {
      return !socket.destroyed
    },
    send: (l) => socket.write(`${l}\r\n`),
    close: (code, text) => {
      if (code === undefined) socket.end()
      else socket.end(`${formatError(code, text ?? '')}\r\n`)
    },
  }
}
