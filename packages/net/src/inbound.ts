/**
 * The listening (passive) socket: binds `passiveBind:passivePort`, hands every accepted socket, raw, to
 * @pyp2p/unl's `handleIncoming` (the secure handshake, then the hello; it completes our own
 * reverse-connect requests), and adds the rest as inbound connections. Sockets still in their
 * handshake or hello are bounded apart (`maxPending`) and by the handshake timeout; `maxInbound` (plus a
 * small slack for answers to our reverse requests) counts authenticated connections only, so neither
 * a flood of silent sockets nor of failed handshakes can fill it.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { SecureError } from '@pyp2p/secure'
import { type IncomingConnection, UnlError } from '@pyp2p/unl'
import type createDebug from 'debug'
import { PENDING_INBOUND_SLACK } from './constants.js'
import { NetError } from './errors.js'

export interface InboundOptions {
  host: string
  port: number
  /** The upgrade (@pyp2p/unl's `handleIncoming`): undefined when it answered our own request. */
  handle(socket: Socket, options: { signal: AbortSignal }): Promise<IncomingConnection | undefined>
  /** Inbound connections now (established). */
  inboundCount(): number
  maxInbound: number
  /** Accepted sockets still in their upgrade at most; more are closed at once. */
  maxPending: number
  onIncoming(incoming: IncomingConnection): void
  log: createDebug.Debugger
}

/** How long an accepted socket may stay silent: every honest peer speaks first (prologue or hello). */
export function firstBytesTimeout(o: { secure: boolean; handshakeTimeout: number; helloTimeout: number }) {
  return o.secure ? o.handshakeTimeout : o.helloTimeout
}

/** Closes a socket that sent nothing within `firstBytesTimeout`; the error says which wait ran out. */
export function silentPeer(
  socket: Socket,
  o: { secure: boolean; handshakeTimeout: number; helloTimeout: number },
): Error {
  socket.destroy()
  const ms = firstBytesTimeout(o)
  return o.secure ? SecureError.HANDSHAKE_TIMEOUT(ms) : UnlError.INVALID_HELLO(`nothing within ${ms} ms`)
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

  /** Accepted sockets still in their handshake or hello. */
  get pending(): number {
    return this.#pending.size
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
    const { maxInbound, maxPending, log } = this.#opts
    const full = this.#closing.signal.aborted
      ? 'closing'
      : this.#pending.size >= maxPending
        ? `${maxPending} handshakes pending (maxPendingHandshakes)`
        : this.#opts.inboundCount() >= maxInbound + PENDING_INBOUND_SLACK
          ? 'inbound is full'
          : undefined
    if (full !== undefined) {
      log('refusing a connection from %s: %s', socket.remoteAddress, full)
      socket.on('error', () => {})
      socket.destroy()
      return
    }
    this.#pending.add(socket)
    socket.on('error', () => {}) // the upgrade reports what failed; a reset must not throw
    this.#opts.handle(socket, { signal: this.#closing.signal }).then(
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
