/**
 * The relay server: authenticates node ids, queues messages for them, pushes them when they connect.
 * Runs standalone (`listen()`) or on a listener owned elsewhere (`handle()`, `service()`), e.g.
 * bootstrap-server's. Options are in relay-server-options.ts, the shared-connection seam in
 * relay-service.ts, the rate limits in relay-rate-limits.ts.
 */
import { EventEmitter } from 'node:events'
import { createServer, type Server } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import type { Clock, LimitHitCount } from '@pyp2p/limits'
import createDebug from 'debug'
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_MESSAGE_BYTES,
  MAX_QUEUED_BYTES,
  MAX_QUEUED_PER_NODE,
  MAX_QUEUED_PER_PAIR,
  MAX_QUEUED_TOTAL,
  MAX_RELAY_LINE_LENGTH,
  MESSAGE_TTL_MS,
  SWEEP_INTERVAL_MS,
} from './constants.js'
import { RelayError } from './errors.js'
import { MemoryMessageStore, type MessageStore } from './message-store.js'
import { formatFail, payloadBytes } from './protocol.js'
import { RelayGuard } from './relay-guard.js'
import { lineSocketLink, type RelayLink } from './relay-link.js'
import {
  definedOnly,
  type HandleOptions,
  type RelayServerEvents,
  type RelayServerOptions,
  serverClock,
} from './relay-server-options.js'
import { type RelayService, relayService } from './relay-service.js'
import { RelaySession } from './relay-session.js'
import { type RelayRemote, relayRemote } from './server/relay-remote.js'
import { listenTcp } from './tcp-listen.js'

const log = createDebug('pyp2p:dht-msg:server')

export class RelayServer extends EventEmitter<RelayServerEvents> {
  readonly #store: MessageStore
  readonly #ttl: number
  readonly #maxMessageBytes: number
  readonly #maxLineLength: number
  readonly #handshakeTimeout: number
  readonly #clock: Clock
  readonly #guard: RelayGuard
  readonly #sessions = new Map<string, RelaySession>()
  /** Sessions still in their handshake, with the timer that closes them (on any listener). */
  readonly #handshakes = new Map<RelaySession, NodeJS.Timeout>()
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
    this.#handshakeTimeout = options.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS
    this.#clock = serverClock(options.clock)
    this.#guard = new RelayGuard(options, this.#clock)
    this.#store =
      options.store ??
      new MemoryMessageStore({
        maxPerNode: options.maxQueuedPerNode ?? MAX_QUEUED_PER_NODE,
        maxPerPair: options.maxQueuedPerPair ?? MAX_QUEUED_PER_PAIR,
        maxTotal: options.maxQueuedTotal ?? MAX_QUEUED_TOTAL,
        maxBytes: options.maxQueuedBytes ?? MAX_QUEUED_BYTES,
        ...definedOnly({
          maxPerSender: options.maxQueuedPerSender,
          maxPerPrefix: options.maxQueuedPerPrefix,
          maxBytesPerPrefix: options.maxQueuedBytesPerPrefix,
          maxPerPrefixPerNode: options.maxQueuedPerPrefixPerNode,
        }),
        prefixLengths: this.#guard.lengths,
      })
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
    const server = createServer((socket) => this.handle(new LineSocket(socket, this.lineLimits)))
    this.#server = server
    let address: { host: string; port: number }
    try {
      address = await listenTcp(server, { host, port, signal })
    } catch (err) {
      this.#server = undefined
      throw err
    }
    server.on('error', (err) => log('listener error: %s', err.message))
    log('listening on %s:%d', address.host, address.port)
    return address
  }

  /** The limits to give `new LineSocket()` when accepting relay connections elsewhere. */
  get lineLimits(): { maxLineLength: number } {
    return { maxLineLength: this.#maxLineLength }
  }

  /** Nodes connected and authenticated now. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Messages waiting for their recipients. */
  get queuedCount(): number {
    return this.#store.size
  }

  /** How often each limit refused something since start, by name (`queue.per-prefix`, `rate.address`...). */
  limitHits(): Record<string, number> {
    return this.#guard.totals()
  }

  /** The (limit, sender prefix) pairs that fired most, most first. */
  limitsByPrefix(n = 10): LimitHitCount[] {
    return this.#guard.top(n)
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
    con.on('line', (line) => session.onLine(line))
    con.once('close', () => {
      this.#sockets.delete(con)
      this.#dropped(session)
    })
    if (options.firstLine !== undefined) session.onLine(options.firstLine)
  }

  /**
   * The relay on another server's connections (`new BootstrapServer({ services: [relay.service()] })`):
   * it gets the lines starting with RELAY, AUTH, SEND or ACK, and holds authenticated connections open
   * (no idle timeout); PING and QUIT stay the server's, with the same meaning. See relay-service.ts.
   */
  service(): RelayService {
    return relayService({
      maxLineLength: this.#maxLineLength,
      open: (link) => this.#open(link),
      dropped: (session) => this.#dropped(session),
      close: () => this.close(),
    })
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
    const now = this.#clock.now()
    const dropped = this.#store.sweep(now)
    if (dropped > 0) log('dropped %d expired messages', dropped)
    this.#guard.rates.sweep(now)
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

  /** Hooks for a host linking several relays into one (server/relay-remote.ts). */
  remote(): RelayRemote {
    return relayRemote(this.#store, this.#sessions, this.#clock)
  }

  /** A new connection, or undefined (link closed) at a limit; its handshake is timed here, whoever owns it. */
  #open(link: RelayLink): RelaySession | undefined {
    const refused = this.#closed ? RelayError.CLOSED() : this.#guard.admit(link, link.address)
    if (refused !== undefined) {
      link.close(refused)
      return undefined
    }
    const session = new RelaySession(link, {
      mayAuthenticate: (address) => this.#guard.mayAuthenticate(address),
      authenticated: (s) => this.#authenticated(s),
      onSend: (s, cmd) => this.#onSend(s, cmd),
      onAck: (s, from, id) => this.#onAck(s, from, id),
    })
    this.#all.add(session)
    const timer = setTimeout(() => {
      this.#handshakes.delete(session)
      if (session.ready) return
      this.#guard.refused(
        RelayError.PROTOCOL('no authentication in time', 'handshake-timeout'),
        this.#guard.keys(session.address).prefix,
      )
      session.close(RelayError.PROTOCOL('no authentication in time'))
    }, this.#handshakeTimeout)
    timer.unref()
    this.#handshakes.set(session, timer)
    return session
  }

  #handshakeDone(session: RelaySession): void {
    clearTimeout(this.#handshakes.get(session))
    this.#handshakes.delete(session)
  }

  #authenticated(session: RelaySession): void {
    this.#handshakeDone(session)
    const { nodeId, address } = session
    const previous = this.#sessions.get(nodeId)
    if (previous !== undefined) {
      log('node %s reconnected: replacing its older connection', nodeId)
      previous.close(RelayError.REPLACED())
    }
    this.#sessions.set(nodeId, session)
    session.write(`WELCOME ${nodeId} ${address} ${session.link.port}`)
    this.emit('session', { nodeId, address })
    for (const m of this.#store.pending(nodeId, this.#clock.now())) session.push(m)
  }

  /** The connection closed (by either side). */
  #dropped(session: RelaySession): void {
    session.closed()
    this.#handshakeDone(session)
    this.#guard.release(session.link)
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
    const now = this.#clock.now()
    const size = payloadBytes(cmd.payload)
    if (size > this.#maxMessageBytes) return RelayError.MESSAGE_TOO_LARGE(size, this.#maxMessageBytes)
    const limited = this.#guard.maySend(s.nodeId, s.address)
    if (limited !== undefined) return limited
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
      const e = err instanceof RelayError ? err : RelayError.RELAY_FULL((err as Error).message, 'store')
      return this.#guard.refused(e, this.#guard.keys(s.address).prefix)
    }
    const recipient = this.#sessions.get(cmd.to)
    if (recipient === undefined) this.emit('queued', message)
    else recipient.push(message)
    return undefined
  }

  #onAck(s: RelaySession, from: string, id: string): void {
    this.#store.ack(s.nodeId, from, id)
    s.acked(from, id)
  }
}
