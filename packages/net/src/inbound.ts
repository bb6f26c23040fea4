/**
 * The listening (passive) socket: binds `passiveBind:passivePort`, hands every accepted socket, raw, to
 * @pyp2p/unl's `handleIncoming` (the secure handshake, then the hello; it completes our own
 * reverse-connect requests), and adds the rest as inbound connections. Sockets still in their
 * handshake or hello are bounded apart (`maxPending`, and per IP and network by
 * `inboundLimits.maxPendingPerPrefix`) and by the handshake timeout; when all are pending, a newcomer
 * from a network holding less than its share closes the oldest pending socket of the network holding
 * the most (@pyp2p/limits' FairTable). `maxInbound` counts admitted connections only and is decided
 * after the hello (the connector's `admit`), so a full node answers `ERR_PEER_FULL` instead of
 * closing: neither a flood of silent sockets nor of failed handshakes can fill it.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { FairTable } from '@pyp2p/limits'
import { SecureError } from '@pyp2p/secure'
import { type IncomingConnection, UnlError } from '@pyp2p/unl'
import type createDebug from 'debug'
import { NetError } from './errors.js'
import type { ResolvedInboundLimits } from './inbound-limits.js'

export interface InboundOptions {
  host: string
  port: number
  /** The upgrade (@pyp2p/unl's `handleIncoming`): undefined when it answered our own request. */
  handle(socket: Socket, options: { signal: AbortSignal }): Promise<IncomingConnection | undefined>
  /** Accepted sockets still in their upgrade at most (see the fair eviction above). */
  maxPending: number
  /** `maxPendingPerPrefix` (also per IP) and the prefix lengths. */
  limits: ResolvedInboundLimits
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
  readonly #pending: FairTable<Socket>
  readonly #sockets = new Set<Socket>()
  readonly #closing = new AbortController()

  private constructor(opts: InboundOptions, server: Server) {
    this.#opts = opts
    this.#server = server
    const perPrefix = opts.limits.maxPendingPerPrefix
    this.#pending = new FairTable({
      capacity: opts.maxPending,
      maxPerIp: perPrefix,
      maxPerPrefix: perPrefix,
      lengths: opts.limits.prefixLengths,
    })
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
    for (const s of this.#sockets) s.destroy()
    this.#sockets.clear()
    this.#pending.clear()
    if (!this.#server.listening) return
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  #onSocket = (socket: Socket): void => {
    const { log } = this.#opts
    socket.on('error', () => {}) // the upgrade reports what failed; a reset must not throw
    const full = this.#closing.signal.aborted ? 'closing' : this.#admit(socket)
    if (full !== undefined) {
      log('refusing a connection from %s: %s', socket.remoteAddress, full)
      socket.destroy()
      return
    }
    const done = (): void => {
      this.#pending.delete(socket)
      this.#sockets.delete(socket)
    }
    this.#opts.handle(socket, { signal: this.#closing.signal }).then(
      (incoming) => {
        done()
        if (incoming !== undefined) this.#opts.onIncoming(incoming)
      },
      (err: unknown) => {
        done()
        log('incoming connection refused: %s', (err as Error).message)
      },
    )
  }

  /** Takes a pending slot for `socket` (closing the oldest of the largest network if fair), or says why not. */
  #admit(socket: Socket): string | undefined {
    let a: ReturnType<FairTable<Socket>['admit']>
    try {
      a = this.#pending.admit(socket.remoteAddress ?? '', (members) => members.values().next().value)
    } catch {
      return 'no peer address'
    }
    if (!a.ok) {
      const what =
        a.refusedBy === 'full'
          ? 'handshakes pending (maxPendingHandshakes)'
          : `pending from ${a.key} (inboundLimits.maxPendingPerPrefix)`
      return `${a.limit} ${what}`
    }
    if (a.victim !== undefined) {
      this.#opts.log(
        'closing the oldest pending handshake of %s for a newcomer',
        this.#pending.keysOfEntry(a.victim)?.prefix,
      )
      this.#pending.delete(a.victim)
      a.victim.destroy()
    }
    this.#pending.add(socket, a.keys)
    this.#sockets.add(socket)
    return undefined
  }
}
