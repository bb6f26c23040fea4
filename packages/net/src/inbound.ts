/**
 * The listening (passive) socket: binds `passiveBind:passivePort`, hands every accepted connection to
 * @pyp2p/unl's `handleIncoming` (which reads the hello line and completes our own reverse-connect
 * requests), and adds the rest as inbound connections. Sockets still waiting for their hello count
 * against `maxInbound` (plus a small slack), so a flood of silent connections cannot pile up.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { type LineLimits, LineSocket } from '@pyp2p/framing'
import type { IncomingConnection } from '@pyp2p/unl'
import type createDebug from 'debug'
import { PENDING_INBOUND_SLACK } from './constants.js'
import { NetError } from './errors.js'

export interface InboundOptions {
  host: string
  port: number
  /** Reads the hello line (@pyp2p/unl's `handleIncoming`): undefined when it answered our own request. */
  handle(con: LineSocket, options: { signal: AbortSignal }): Promise<IncomingConnection | undefined>
  lineLimits: LineLimits
  /** Inbound connections now (established). */
  inboundCount(): number
  maxInbound: number
  onIncoming(incoming: IncomingConnection): void
  log: createDebug.Debugger
}

export class InboundListener {
  readonly #opts: InboundOptions
  readonly #server: Server
  readonly #pending = new Set<Socket>()
  readonly #closing = new AbortController()

  private constructor(opts: InboundOptions, server: Server) {
    this.#opts = opts
    this.#server = server
    server.on('connection', this.#onSocket)
    server.on('error', (err) => opts.log('listener error: %s', err.message))
  }

  /** Binds and listens; throws `ERR_LISTEN_FAILED` or `ERR_ABORTED`. */
  static async listen(opts: InboundOptions, signal: AbortSignal): Promise<InboundListener> {
    const server = createServer()
    try {
      server.listen({ host: opts.host, port: opts.port })
      await once(server, 'listening', { signal })
    } catch (err) {
      server.close()
      if (signal.aborted) throw NetError.ABORTED(signal.reason)
      throw NetError.LISTEN_FAILED(opts.host, opts.port, err)
    }
    return new InboundListener(opts, server)
  }

  get address(): { address: string; port: number } {
    const a = this.#server.address()
    if (a === null || typeof a === 'string') return { address: this.#opts.host, port: 0 }
    return { address: a.address, port: a.port }
  }

  get listening(): boolean {
    return this.#server.listening
  }

  /** Stops listening and drops connections that have not said hello. Resolves when the port is free. */
  async close(): Promise<void> {
    this.#closing.abort()
    for (const s of this.#pending) s.destroy()
    this.#pending.clear()
    if (!this.#server.listening) return
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #onSocket = (socket: Socket): void => {
    const { maxInbound, log } = this.#opts
    if (
      this.#closing.signal.aborted ||
      this.#opts.inboundCount() + this.#pending.size >= maxInbound + PENDING_INBOUND_SLACK
    ) {
      log('refusing a connection from %s: inbound is full', socket.remoteAddress)
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    this.#pending.add(socket)
    const con = new LineSocket(socket, this.#opts.lineLimits)
    this.#opts.handle(con, { signal: this.#closing.signal }).then(
      (incoming) => {
        this.#pending.delete(socket)
        if (incoming !== undefined) this.#opts.onIncoming(incoming)
      },
      (err: unknown) => {
        this.#pending.delete(socket)
        log('incoming connection refused: %s', (err as Error).message)
      },
    )
  }
}
