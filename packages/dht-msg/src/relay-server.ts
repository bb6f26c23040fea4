/**
 * The relay server: authenticates node ids, queues messages for them, pushes them when they connect.
 * Runs standalone (`listen()`) or on a listener owned elsewhere (`handle()`), e.g. bootstrap-server's.
 */
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import {
  AUTH_BURST,
  AUTH_RATE_PER_SECOND,
  HANDSHAKE_TIMEOUT_MS,
  IP_BURST,
  IP_RATE_PER_SECOND,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_BYTES,
  MAX_QUEUED_PER_NODE,
  MAX_QUEUED_PER_PAIR,
  MAX_QUEUED_TOTAL,
  MAX_RATE_LIMIT_KEYS,
  MAX_RELAY_CONNECTIONS,
  MAX_RELAY_LINE_LENGTH,
  MESSAGE_TTL_MS,
  RELAY_PROTOCOL,
  SENDER_BURST,
  SENDER_RATE_PER_SECOND,
  SWEEP_INTERVAL_MS,
} from './constants.js'
import { RelayError } from './errors.js'
import { MemoryMessageStore, type MessageStore } from './message-store.js'
import { formatFail, payloadBytes } from './protocol.js'
import { type RateLimit, RateLimiter } from './rate-limiter.js'
import { lineSocketLink, type RelayLink, type SharedConnection, sharedLink } from './relay-link.js'
import { RelaySession } from './relay-session.js'

const log = createDebug('pyp2p:dht-msg:server')

export interface RelayServerOptions {
  /** Where messages wait. Default: in memory, with the queue limits below. */
  store?: MessageStore
  /** How long a message waits for its recipient, ms. Default MESSAGE_TTL_MS (120 s). */
  messageTtl?: number
  /** Largest message, UTF-8 bytes. Default MAX_MESSAGE_BYTES (4096). */
  maxMessageBytes?: number
  /** Longest line accepted; a longer one closes that connection. Default MAX_RELAY_LINE_LENGTH. */
  maxLineLength?: number
  /** Queue limits of the default store. */
  maxQueuedPerNode?: number
  maxQueuedPerPair?: number
  maxQueuedTotal?: number
  maxQueuedBytes?: number
  /** Open connections at most (authenticated or not). Default MAX_RELAY_CONNECTIONS. */
  maxConnections?: number
  /** Sends per sender node id. Default { burst: 30, perSecond: 5 }. */
  senderLimit?: RateLimit
  /** Sends per source IP address. Default { burst: 100, perSecond: 20 }. */
  ipLimit?: RateLimit
  /** Authentication attempts per source IP address. Default { burst: 20, perSecond: 2 }. */
  authLimit?: RateLimit
  /** Time allowed for the hello and AUTH lines, ms. Default HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeout?: number
  /** How often expired messages are dropped, ms. Default SWEEP_INTERVAL_MS. */
  sweepInterval?: number
  /** The clock (ms), for expiry and rate limits; replace it in simulations and tests. */
  clock?: () => number
}

export interface HandleOptions {
  /** The connection's first line when the caller has already read it (an embedding server has). */
  firstLine?: string
}

/** The commands a server sharing its connections hands to the relay (see `RelayServer.service()`). */
export const SERVICE_COMMANDS: readonly string[] = ['RELAY', 'AUTH', 'SEND', 'ACK']

/** bootstrap-server's `RendezvousService` shape, declared here so neither package imports the other. */
export interface RelayService {
  readonly name: string
  readonly commands: readonly string[]
  /**
   * Longest relay line (the relay's `maxLineLength`, 8192 by default). The host must accept lines this
   * long for these commands: a `SEND` of a 4 KiB message is about 5.5 KB, far over bootstrap-server's
   * 1,024-character limit for its own lines.
   */
  readonly maxLineLength: number
  readonly helloExtensions: readonly string[]
  handleLine(connection: SharedConnection, line: string): void
  connectionClosed(connection: SharedConnection): void
  close(): Promise<void>
}

export interface RelayServerEvents {
  /** A node authenticated. */
  session: [info: { nodeId: string; address: string }]
}

export class RelayServer extends EventEmitter<RelayServerEvents> {
  readonly #store: MessageStore
  readonly #ttl: number
  readonly #maxMessageBytes: number
  readonly #maxLineLength: number
  readonly #maxConnections: number
  readonly #handshakeTimeout: number
  readonly #clock: () => number
  readonly #senders: RateLimiter
  readonly #ips: RateLimiter
  readonly #auths: RateLimiter
  readonly #sessions = new Map<string, RelaySession>()
  /** Every connection, authenticated or not. */
  readonly #all = new Set<RelaySession>()
  /** The LineSockets among them (close() waits for these). */
  readonly #sockets = new Set<LineSocket>()
  readonly #sweepTimer: NodeJS.Timeout
  #server: Server | undefined
  #closed = false

  constructor(options: RelayServerOptions = {}) {
    super()
    this.#ttl = options.messageTtl ?? MESSAGE_TTL_MS
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.#maxLineLength = options.maxLineLength ?? MAX_RELAY_LINE_LENGTH
    this.#maxConnections = options.maxConnections ?? MAX_RELAY_CONNECTIONS
    this.#handshakeTimeout = options.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS
    this.#clock = options.clock ?? Date.now
    this.#store =
      options.store ??
      new MemoryMessageStore({
        maxPerNode: options.maxQueuedPerNode ?? MAX_QUEUED_PER_NODE,
        maxPerPair: options.maxQueuedPerPair ?? MAX_QUEUED_PER_PAIR,
        maxTotal: options.maxQueuedTotal ?? MAX_QUEUED_TOTAL,
        maxBytes: options.maxQueuedBytes ?? MAX_QUEUED_BYTES,
      })
    const limit = (l: RateLimit | undefined, burst: number, perSecond: number): RateLimiter =>
      new RateLimiter(l ?? { burst, perSecond }, MAX_RATE_LIMIT_KEYS)
    this.#senders = limit(options.senderLimit, SENDER_BURST, SENDER_RATE_PER_SECOND)
    this.#ips = limit(options.ipLimit, IP_BURST, IP_RATE_PER_SECOND)
    this.#auths = limit(options.authLimit, AUTH_BURST, AUTH_RATE_PER_SECOND)
    this.#sweepTimer = setInterval(() => this.sweep(), options.sweepInterval ?? SWEEP_INTERVAL_MS)
    this.#sweepTimer.unref()
  }

  /** Listen on its own TCP port. Resolves with the bound address (use `port: 0` for any free port). */
  async listen(options: { host?: string; port?: number; signal?: AbortSignal } = {}): Promise<{
    host: string
    port: number
  }> {
    if (this.#closed) throw RelayError.CLOSED()
    if (this.#server !== undefined) throw new Error('RelayServer is already listening')
    const { host = '0.0.0.0', port = 0, signal } = options
    const server = createServer((socket) => this.handle(new LineSocket(socket, this.#lineLimits())))
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => {
        signal?.removeEventListener('abort', onAbort)
        reject(err)
      }
      const onAbort = (): void => {
        server.off('error', onError)
        server.close()
        reject(RelayError.ABORTED(signal?.reason))
      }
      if (signal?.aborted) return onAbort()
      signal?.addEventListener('abort', onAbort, { once: true })
      server.once('error', onError)
      server.listen({ host, port }, () => {
        server.off('error', onError)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      })
    }).catch((err: unknown) => {
      this.#server = undefined
      throw err
    })
    server.on('error', (err) => log('listener error: %s', err.message))
    const addr = server.address()
    if (addr === null || typeof addr === 'string') throw new Error('RelayServer: no TCP address')
    log('listening on %s:%d', addr.address, addr.port)
    return { host: addr.address, port: addr.port }
  }

  /** The limits to give `new LineSocket()` when accepting relay connections elsewhere. */
  get lineLimits(): { maxLineLength: number } {
    return this.#lineLimits()
  }

  /** Nodes connected and authenticated now. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Messages waiting for their recipients. */
  get queuedCount(): number {
    return this.#store.size
  }

  /**
   * Serve a relay connection accepted elsewhere. Pass `firstLine` when the caller has already read the
   * first line (it starts with `RELAY `; see `isRelayHello`).
   */
  handle(con: LineSocket, options: HandleOptions = {}): void {
    if (!con.isOpen) return
    const session = this.#open(lineSocketLink(con))
    if (session === undefined) return
    this.#sockets.add(con)
    const timer = setTimeout(() => {
      if (!session.ready) session.close(RelayError.PROTOCOL('no authentication in time'))
    }, this.#handshakeTimeout)
    timer.unref()
    con.on('line', (line) => session.onLine(line))
    con.once('close', () => {
      clearTimeout(timer)
      this.#sockets.delete(con)
      this.#dropped(session)
    })
    if (options.firstLine !== undefined) session.onLine(options.firstLine)
  }

  /**
   * The relay as a command family on another server's connections, in the shape of bootstrap-server's
   * `RendezvousService`: `new BootstrapServer({ services: [relay.service()] })`. The server hands over
   * every line starting with RELAY, AUTH, SEND or ACK (PING and QUIT are its own, with the same
   * meaning); an authenticated relay connection is put on hold (no idle timeout).
   */
  service(): RelayService {
    const sessions = new Map<SharedConnection, RelaySession>()
    return {
      name: 'dht-msg',
      commands: SERVICE_COMMANDS,
      maxLineLength: this.#maxLineLength,
      helloExtensions: [RELAY_PROTOCOL],
      handleLine: (conn, line) => {
        let session = sessions.get(conn)
        if (session === undefined) {
          session = this.#open(sharedLink(conn))
          if (session === undefined) return
          sessions.set(conn, session)
        }
        session.onLine(line)
      },
      connectionClosed: (conn) => {
        const session = sessions.get(conn)
        if (session === undefined) return
        sessions.delete(conn)
        this.#dropped(session)
      },
      close: () => this.close(),
    }
  }

  /** Close the connection of `nodeId` (its messages stay queued); false when it is not connected. */
  disconnect(nodeId: string): boolean {
    const session = this.#sessions.get(nodeId)
    if (session === undefined) return false
    session.close()
    return true
  }

  /** Drop expired messages and idle rate-limit entries (also runs on a timer). */
  sweep(): void {
    const now = this.#clock()
    const dropped = this.#store.sweep(now)
    if (dropped > 0) log('dropped %d expired messages', dropped)
    this.#senders.sweep(now)
    this.#ips.sweep(now)
    this.#auths.sweep(now)
  }

  /** Stop listening and close every connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#sweepTimer)
    const server = this.#server
    const listening = server ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined
    const sockets = [...this.#sockets]
    for (const session of [...this.#all]) session.close()
    await Promise.all([listening, ...sockets.map((c) => c.closed)])
    await this.#store.close?.()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** A new connection, or undefined (and the link closed) when the relay is closed or full. */
  #open(link: RelayLink): RelaySession | undefined {
    if (this.#closed || this.#all.size >= this.#maxConnections) {
      link.close(this.#closed ? RelayError.CLOSED() : RelayError.RELAY_FULL('too many connections'))
      return undefined
    }
    const session = new RelaySession(link, {
      mayAuthenticate: (address) => this.#auths.take(address, this.#clock()),
      authenticated: (s) => this.#authenticated(s),
      onSend: (s, cmd) => this.#onSend(s, cmd),
      onAck: (s, from, id) => this.#onAck(s, from, id),
    })
    this.#all.add(session)
    return session
  }

  #authenticated(session: RelaySession): void {
    const { nodeId, address } = session
    const previous = this.#sessions.get(nodeId)
    if (previous !== undefined) {
      log('node %s reconnected: replacing its older connection', nodeId)
      previous.close(RelayError.REPLACED())
    }
    this.#sessions.set(nodeId, session)
    session.write(`WELCOME ${nodeId} ${address} ${session.link.port}`)
    this.emit('session', { nodeId, address })
    for (const m of this.#store.pending(nodeId, this.#clock())) session.push(m)
  }

  /** The connection closed (by either side). */
  #dropped(session: RelaySession): void {
    session.closed()
    this.#all.delete(session)
    if (this.#sessions.get(session.nodeId) === session) this.#sessions.delete(session.nodeId)
  }

  #onSend(s: RelaySession, cmd: { id: string; to: string; payload: string }): void {
    const error = this.#accept(s, cmd)
    if (error !== undefined) {
      s.write(formatFail(cmd.id, error))
      return
    }
    s.write(`SENT ${cmd.id}`)
  }

  /** Check the limits and queue the message (pushing it if its recipient is here); the error if not. */
  #accept(s: RelaySession, cmd: { id: string; to: string; payload: string }): RelayError | undefined {
    const now = this.#clock()
    const size = payloadBytes(cmd.payload)
    if (size > this.#maxMessageBytes) return RelayError.MESSAGE_TOO_LARGE(size, this.#maxMessageBytes)
    if (!this.#senders.take(s.nodeId, now)) return RelayError.RATE_LIMITED('node id')
    if (!this.#ips.take(s.address, now)) return RelayError.RATE_LIMITED('address')
    const message = {
      to: cmd.to,
      from: s.nodeId,
      id: cmd.id,
      payload: cmd.payload,
      fromAddress: s.address,
      expiresAt: now + this.#ttl,
    }
    try {
      this.#store.put(message, now)
    } catch (err) {
      return err instanceof RelayError ? err : RelayError.RELAY_FULL((err as Error).message)
    }
    this.#sessions.get(cmd.to)?.push(message)
    return undefined
  }

  #onAck(s: RelaySession, from: string, id: string): void {
    this.#store.ack(s.nodeId, from, id)
    s.acked(from, id)
  }

  #lineLimits(): { maxLineLength: number } {
    return { maxLineLength: this.#maxLineLength }
  }
}
