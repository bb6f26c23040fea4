/**
 * The listener and its connections: accepts sockets (bounded in total, per IP and per network prefix
 * by @pyp2p/limits' `FairTable`; when full, a newcomer from an under-represented prefix evicts a
 * connection of the most-represented one, chosen by eviction-policy.ts), frames their bytes into lines
 * (line-splitter.ts), applies the per-connection flood limit, keeps the handshake, idle
 * and closing lists the sweep walks, and shuts every connection down on close. What a line means is
 * the dispatcher's business (dispatcher.ts); what a closed connection leaves behind is the server's.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { type Clock, FairTable, type NetworkKeys, type RateLimit } from '@pyp2p/limits'
import { PROTOCOL_VERSION } from '@pyp2p/rendezvous-protocol'
import { Connection, type ConnectionHost } from './connection.js'
import { CONNECTION_OVERFLOW_SLACK, SHUTDOWN_GRACE_MS } from './constants.js'
import { BootstrapServerError } from './errors.js'
import { evictionText, pickEvictionVictim, refusalText } from './eviction-policy.js'
import type { LimitLog } from './limit-log.js'
import { LineSplitter } from './line-splitter.js'
import type { Logger } from './logger.js'
import type { ResolvedOptions } from './options.js'
import { prefixLengths } from './prefix-options.js'
import { attachConnection, noop, plainIp, reject } from './socket-listeners.js'

export interface ListenerOptions {
  readonly opts: ResolvedOptions
  readonly clock: Clock
  readonly log: Logger
  /** Where every limit that fires is counted and logged. */
  readonly limits: LimitLog
  /** Appended to every `HELLO` (the services' words). */
  readonly helloSuffix: string
  /** The words of a connection's `HELLO` before the services' (` nonce=<n> server=<id>`, ownership.ts). */
  readonly helloWords: (connId: number) => string
  /** Framing limit: a line past it is cut off unread and its connection destroyed. */
  readonly hardLineLimit: number
  /** A whole line that passed the flood limit. */
  readonly onLine: (conn: Connection, line: string) => void
  /** A connection's socket closed (after the listener forgot it). */
  readonly onClosed: (conn: Connection) => void
}

export class Listener implements ConnectionHost {
  readonly maxSendBuffer: number
  readonly #o: ListenerOptions
  readonly #server: Server
  /** Lines per second per connection, and the burst: one shared limit, one bucket per connection. */
  readonly #lineLimit: RateLimit
  readonly #connections = new Set<Connection>()
  /** Non-exempt connections in order of last activity: the idle sweep walks the stale head only. */
  readonly #idle = new Set<Connection>()
  /** Connections that were asked to close, in order: the sweep destroys those that linger. */
  readonly #closingList = new Set<Connection>()
  /** Connections that have sent no complete line yet, in order of acceptance (the handshake timeout). */
  readonly #fresh = new Set<Connection>()
  /** Fresh connections the last sweep found past the handshake timeout: closed at the next if still silent. */
  #due: Connection[] = []
  /** Open, not closing connections, counted per IP and prefix; decides admission and eviction. */
  readonly #table: FairTable<Connection>
  readonly #splitter: LineSplitter
  #evictions = 0
  #allClosed: (() => void) | undefined
  #nextId = 1
  #state: 'new' | 'listening' | 'closed' = 'new'

  constructor(options: ListenerOptions) {
    this.#o = options
    this.maxSendBuffer = options.opts.maxSendBuffer
    this.#lineLimit = { burst: options.opts.lineBurst, perSecond: options.opts.lineRate }
    this.#splitter = new LineSplitter(options.hardLineLimit)
    this.#server = createServer({ noDelay: true }, this.#onConnection)
    this.#server.maxConnections = options.opts.maxConnections + CONNECTION_OVERFLOW_SLACK
    this.#table = new FairTable({
      capacity: options.opts.maxConnections,
      maxPerIp: options.opts.maxConnectionsPerIp,
      maxPerPrefix: options.opts.maxConnectionsPerPrefix,
      lengths: prefixLengths(options.opts),
    })
  }

  /** Connections closed to admit a client of another prefix, since start. */
  get evictions(): number {
    return this.#evictions
  }

  /** Network prefixes holding at least one connection. */
  get prefixCount(): number {
    return this.#table.prefixCount
  }

  get size(): number {
    return this.#connections.size
  }

  /** The bound address while listening. */
  get address(): AddressInfo | undefined {
    const a = this.#server.address()
    return a !== null && typeof a === 'object' ? a : undefined
  }

  /** Starts listening; resolves with the bound address. Throws `ERR_LISTEN_FAILED`, `ERR_ABORTED`. */
  async listen(signal: AbortSignal | undefined): Promise<AddressInfo> {
    if (this.#state !== 'new') throw BootstrapServerError.SERVER_CLOSED('listen')
    if (signal?.aborted) throw BootstrapServerError.ABORTED(signal.reason)
    this.#state = 'listening'
    const { host, port, backlog } = this.#o.opts
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        signal?.removeEventListener('abort', onAbort)
        this.#state = 'closed'
        reject(BootstrapServerError.LISTEN_FAILED(host, port, error))
      }
      const onAbort = (): void => {
        this.#server.off('error', onError)
        this.#state = 'closed'
        this.#server.close()
        reject(BootstrapServerError.ABORTED(signal?.reason))
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#server.once('error', onError)
      this.#server.listen({ host, port, backlog }, () => {
        signal?.removeEventListener('abort', onAbort)
        this.#server.off('error', onError)
        resolve()
      })
    })
    this.#server.on('error', (error) => this.#o.log.error('server socket error', { error: error.message }))
    return this.#server.address() as AddressInfo
  }

  /**
   * Stops accepting, ends every connection with `ERROR ERR_SHUTTING_DOWN` (destroying those that do not
   * take their last line within SHUTDOWN_GRACE_MS) and resolves once all are gone. Returns whether it
   * was listening.
   */
  async close(): Promise<boolean> {
    const wasListening = this.#state === 'listening'
    this.#state = 'closed'
    const stopped = wasListening
      ? new Promise<void>((resolve) => this.#server.close(() => resolve()))
      : Promise.resolve()
    const allClosed =
      this.#connections.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#allClosed = resolve
          })
    for (const conn of this.#connections) conn.close('ERR_SHUTTING_DOWN', 'the server is shutting down')
    // A real timer: shutdown must end even when the injected clock stands still.
    const grace = setTimeout(() => {
      for (const conn of this.#connections) conn.socket.destroy()
    }, SHUTDOWN_GRACE_MS)
    await allClosed
    clearTimeout(grace)
    await stopped
    return wasListening
  }

  /**
   * Destroys connections that linger after closing, closes those that sent no line within
   * `handshakeTimeoutMs` of being accepted (at the sweep after the one that found them late), and
   * those idle past `idleTimeoutMs`.
   */
  sweep(now: number): void {
    for (const conn of this.#closingList) {
      if (now - conn.lastSeen < SHUTDOWN_GRACE_MS) break
      this.#closingList.delete(conn)
      conn.socket.destroy()
    }
    const { idleTimeoutMs, handshakeTimeoutMs } = this.#o.opts
    // Past the handshake timeout, a connection is closed at the _next_ sweep if still silent: in between
    // the loop has read what had reached us, so a line that waited in our receive queue while we were
    // busy (a reconnect herd; timers run before sockets are read) is not counted against its client.
    // The clock starts at accept, in the call that writes the HELLO: starting it there changes nothing.
    for (const conn of this.#due) {
      if (!this.#fresh.delete(conn)) continue
      this.#o.limits.hit('connections.handshake-timeout', this.#prefixOf(conn), { ip: conn.ip })
      conn.close('ERR_HANDSHAKE_TIMEOUT', `no command within ${handshakeTimeoutMs} ms of connecting`)
    }
    this.#due = []
    for (const conn of this.#fresh) {
      // lastSeen is still the accept time: it moves with the first line, which takes it off this list.
      if (now - conn.lastSeen < handshakeTimeoutMs) break
      this.#due.push(conn)
    }
    for (const conn of this.#idle) {
      if (now - conn.lastSeen < idleTimeoutMs) break
      this.#idle.delete(conn)
      conn.close('ERR_IDLE_TIMEOUT', `no command for ${idleTimeoutMs} ms`)
    }
  }

  closing(conn: Connection): void {
    this.#idle.delete(conn)
    this.#fresh.delete(conn)
    // Its slot is free for a newcomer now; the socket itself is bounded by the OS-level maxConnections.
    this.#table.delete(conn)
    conn.lastSeen = this.#o.clock.now()
    this.#closingList.add(conn)
  }

  refreshIdle(conn: Connection): void {
    if (conn.closing || !this.#connections.has(conn)) return
    if (conn.exempt) this.#idle.delete(conn)
    else if (!this.#idle.has(conn)) {
      // Restart its idle clock so the list stays in order of lastSeen.
      conn.lastSeen = this.#o.clock.now()
      this.#idle.add(conn)
    }
  }

  /** @internal Bytes from a client, split into lines (line-splitter.ts); a line past the hard limit ends it. */
  onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return
    if (this.#splitter.write(conn, chunk, (line) => this.#onLine(conn, line))) return
    this.#o.log.warn('line over the hard limit: closing connection', { conn: conn.id, ip: conn.ip })
    conn.closing = true
    conn.socket.destroy()
  }

  /** @internal The client's socket closed: forget it here, then tell the server. */
  onClose(conn: Connection): void {
    conn.closing = true
    this.#connections.delete(conn)
    this.#idle.delete(conn)
    this.#closingList.delete(conn)
    this.#fresh.delete(conn)
    this.#table.delete(conn)
    this.#o.onClosed(conn)
    this.#o.log.debug('connection closed', { conn: conn.id })
    if (this.#connections.size === 0) this.#allClosed?.()
  }

  #onLine(conn: Connection, line: string): void {
    if (conn.closing) return
    const now = this.#o.clock.now()
    if (!conn.take(this.#lineLimit, now)) {
      this.#o.limits.hit('connections.flood', this.#prefixOf(conn), { conn: conn.id, ip: conn.ip })
      conn.close('ERR_FLOOD', `more than ${this.#lineLimit.perSecond} lines per second`)
      return
    }
    conn.lastSeen = now
    this.#fresh.delete(conn)
    if (this.#idle.delete(conn)) this.#idle.add(conn)
    this.#o.onLine(conn, line)
  }

  #onConnection = (socket: Socket): void => {
    const ip = plainIp(socket.remoteAddress)
    const port = socket.remotePort
    // net.Socket caches the peer's address on first read (`_peername`: ~80 bytes a connection, issue 16);
    // conn.ip/port are our copy, so drop it (a later read while the socket is open fetches it again).
    ;(socket as { _peername?: unknown })._peername = undefined
    socket.on('error', noop)
    if (ip === undefined || port === undefined) {
      socket.destroy()
      return
    }
    if (this.#state !== 'listening') {
      reject(socket, 'ERR_SHUTTING_DOWN', 'the server is shutting down')
      return
    }
    let keys: NetworkKeys
    try {
      keys = this.#table.keysOf(ip)
    } catch {
      socket.destroy() // not an address (never seen from a real socket)
      return
    }
    const admission = this.#table.admit(keys, pickEvictionVictim)
    if (!admission.ok) {
      const { refusedBy, key, limit } = admission
      this.#o.limits.hit(`connections.${refusedBy}`, keys.prefix, { ip })
      reject(socket, 'ERR_TOO_MANY_CONNECTIONS', refusalText(refusedBy, key, limit))
      return
    }
    const victim = admission.victim
    if (victim !== undefined) {
      const victimKeys = this.#table.keysOfEntry(victim) ?? this.#table.keysOf(victim.ip)
      this.#evictions++
      this.#o.limits.hit('connections.evicted', victimKeys.prefix, { ip: victim.ip, for: keys.prefix })
      this.#table.delete(victim)
      victim.close('ERR_EVICTED', evictionText(victimKeys, keys))
    }
    const { keepAliveDelayMs } = this.#o.opts
    socket.setNoDelay(true)
    socket.setKeepAlive(true, keepAliveDelayMs)
    const now = this.#o.clock.now()
    const conn = new Connection(this.#nextId++, ip, keys, port, socket, this, now, this.#lineLimit)
    this.#connections.add(conn)
    this.#idle.add(conn)
    this.#fresh.add(conn)
    this.#table.add(conn, keys)
    attachConnection(socket, conn)
    const words = `${this.#o.helloWords(conn.id)}${this.#o.helloSuffix}`
    conn.send(`HELLO PYP2P/${PROTOCOL_VERSION} ${conn.ip} ${port}${words}`)
  }

  #prefixOf(conn: Connection): string {
    return (this.#table.keysOfEntry(conn) ?? this.#table.keysOf(conn.ip)).prefix
  }
}
