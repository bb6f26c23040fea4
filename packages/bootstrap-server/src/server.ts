/**
 * `BootstrapServer`: accepts connections, frames lines with @pyp2p/framing, routes each line to the
 * rendezvous commands (commands.ts) or to a service, and runs one sweep timer for every timeout.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { RelayServer } from '@pyp2p/dht-msg/server'
import { FramingError, LineDecoder } from '@pyp2p/framing'
import {
  formatError,
  isRendezvousProtocolError,
  PROTOCOL_VERSION,
  parseClientMessage,
} from '@pyp2p/rendezvous-protocol'
import { type CommandContext, handleCommand } from './commands.js'
import { Connection } from './connection.js'
import { CONNECTION_OVERFLOW_SLACK, HARD_LINE_LIMIT_FACTOR, SHUTDOWN_GRACE_MS } from './constants.js'
import { DialBack } from './dial-back.js'
import { BootstrapServerError } from './errors.js'
import type { Logger } from './logger.js'
import { isLoopback, NodeTable } from './node-table.js'
import { type BootstrapServerOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { PunchTable } from './punch-table.js'
import type { RendezvousService } from './service.js'
import { attachConnection, noop, plainIp, reject } from './socket-listeners.js'
import { expireTables, forgetConnection } from './table-cleanup.js'

export interface BootstrapServerStats {
  readonly connections: number
  readonly nodes: number
  readonly passiveNodes: number
  readonly simultaneousNodes: number
  readonly pendingPunches: number
  /** FIGHT pairs sent since start. */
  readonly coordinations: number
  /** Dial-backs (`CHECK`) running now. */
  readonly pendingChecks: number
  /** Nodes authenticated with the embedded relay now (0 without one). */
  readonly relaySessions: number
  /** Messages waiting in the embedded relay for their recipients (0 without one). */
  readonly relayQueued: number
}

export class BootstrapServer implements CommandContext {
  readonly opts: ResolvedOptions
  readonly log: Logger
  readonly nodes: NodeTable
  readonly punches = new PunchTable()
  readonly dialBack: DialBack
  /** The embedded @pyp2p/dht-msg relay (same port), unless the `relay` option is false. */
  readonly relay: RelayServer | undefined
  allowLoopback = false
  readonly #server: Server
  readonly #connections = new Set<Connection>()
  /** Non-exempt connections in order of last activity: the idle sweep walks the stale head only. */
  readonly #idle = new Set<Connection>()
  /** Connections that were asked to close, in order: the sweep destroys those that linger. */
  readonly #closingList = new Set<Connection>()
  #allClosed: (() => void) | undefined
  readonly #perIp = new Map<string, number>()
  readonly #services = new Map<string, RendezvousService>()
  #helloSuffix = ''
  /** Framing limit: lines past it are cut off unread (4x the protocol limit, or a service's limit). */
  readonly #hardLineLimit: number
  #nextId = 1
  #pingCounter = 0
  #coordinations = 0
  #sweepTimer: NodeJS.Timeout | undefined
  #state: 'new' | 'listening' | 'closed' = 'new'
  readonly maxSendBuffer: number
  #closing: Promise<void> | undefined

  constructor(options: BootstrapServerOptions = {}) {
    this.opts = resolveOptions(options)
    this.log = this.opts.logger
    this.nodes = new NodeTable(this.opts.maxNodes, this.opts.maxNodesPerIp)
    this.maxSendBuffer = this.opts.maxSendBuffer
    this.dialBack = new DialBack({
      timeoutMs: this.opts.dialBackTimeoutMs,
      burst: this.opts.checkBurst,
      intervalMs: this.opts.checkIntervalMs,
      maxPending: this.opts.maxPendingChecks,
    })
    const { relay } = this.opts
    this.relay = relay === false ? undefined : new RelayServer(relay === true ? {} : relay)
    const services =
      this.relay === undefined ? this.opts.services : [this.relay.service(), ...this.opts.services]
    const ext: string[] = []
    for (const service of services) {
      for (const word of service.commands) {
        const other = this.#services.get(word)
        if (other !== undefined) {
          void this.relay?.close()
          throw BootstrapServerError.INVALID_OPTION(
            'services',
            service.name,
            `services whose commands do not overlap (${word} is also ${other.name}'s; relay: false turns the embedded relay off)`,
          )
        }
        this.#services.set(word, service)
      }
      ext.push(...(service.helloExtensions ?? []))
    }
    this.#helloSuffix = ext.length > 0 ? ` ${ext.join(' ')}` : ''
    this.#hardLineLimit = Math.max(
      this.opts.maxLineLength * HARD_LINE_LIMIT_FACTOR,
      ...services.map((s) => s.maxLineLength ?? 0),
    )
    this.#server = createServer({ noDelay: true }, this.#onConnection)
    this.#server.maxConnections = this.opts.maxConnections + CONNECTION_OVERFLOW_SLACK
  }

  /** Starts listening; resolves with the bound address. Throws `ERR_LISTEN_FAILED`, `ERR_ABORTED`. */
  async listen(options: { signal?: AbortSignal } = {}): Promise<AddressInfo> {
    if (this.#state !== 'new') throw BootstrapServerError.SERVER_CLOSED('listen')
    const { signal } = options
    if (signal?.aborted) throw BootstrapServerError.ABORTED(signal.reason)
    this.#state = 'listening'
    const { host, port, backlog } = this.opts
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
    this.#server.on('error', (error) => this.log.error('server socket error', { error: error.message }))
    const address = this.#server.address() as AddressInfo
    this.allowLoopback = this.opts.allowLoopback ?? isLoopback(plainIp(address.address) ?? '')
    this.#sweepTimer = setInterval(this.sweep, this.opts.sweepIntervalMs)
    this.#sweepTimer.unref()
    this.log.info(`listening on ${address.address}:${address.port}`, {
      host: address.address,
      port: address.port,
      version: PROTOCOL_VERSION,
      relay: this.relay !== undefined,
    })
    return address
  }

  /** The bound address while listening. */
  get address(): AddressInfo | undefined {
    const a = this.#server.address()
    return a !== null && typeof a === 'object' ? a : undefined
  }

  stats(): BootstrapServerStats {
    return {
      connections: this.#connections.size,
      nodes: this.nodes.size,
      passiveNodes: this.nodes.passiveCount,
      simultaneousNodes: this.nodes.simultaneousCount,
      pendingPunches: this.punches.size,
      coordinations: this.#coordinations,
      pendingChecks: this.dialBack.pendingCount,
      relaySessions: this.relay?.sessionCount ?? 0,
      relayQueued: this.relay?.queuedCount ?? 0,
    }
  }

  /**
   * Stops accepting, tells every client `ERROR ERR_SHUTTING_DOWN`, closes every connection (destroying
   * those that do not take their last line within a grace period) and clears all state. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #close(): Promise<void> {
    const wasListening = this.#state === 'listening'
    this.#state = 'closed'
    clearInterval(this.#sweepTimer)
    this.dialBack.close()
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
    const grace = setTimeout(() => {
      for (const conn of this.#connections) conn.socket.destroy()
    }, SHUTDOWN_GRACE_MS)
    await allClosed
    clearTimeout(grace)
    await stopped
    for (const service of new Set(this.#services.values())) await service.close?.()
    // A relay that was never handed a connection still has its sweep timer: close() is idempotent.
    await this.relay?.close()
    this.nodes.clear()
    if (wasListening) this.log.info('closed')
  }

  now(): number {
    return Date.now()
  }

  coordinated(): void {
    this.#coordinations++
  }

  /** Sends a PING to measure the connection's RTT, unless one is already out. */
  ping(conn: Connection): void {
    if (conn.pingToken !== undefined && performance.now() - conn.pingAt < this.opts.challengeTimeoutMs) return
    conn.pingToken = (++this.#pingCounter).toString(36)
    conn.pingAt = performance.now()
    conn.send(`PING ${conn.pingToken}`)
  }

  closing(conn: Connection): void {
    this.#idle.delete(conn)
    conn.lastSeen = this.now()
    this.#closingList.add(conn)
  }

  refreshIdle(conn: Connection): void {
    if (conn.closing || !this.#connections.has(conn)) return
    if (conn.exempt) this.#idle.delete(conn)
    else if (!this.#idle.has(conn)) {
      // Restart its idle clock so the list stays in order of lastSeen.
      conn.lastSeen = this.now()
      this.#idle.add(conn)
    }
  }

  /** One pass over everything that can time out; each table is walked from its oldest entry only. */
  readonly sweep = (): void => {
    const now = this.now()
    for (const conn of this.#closingList) {
      if (now - conn.lastSeen < SHUTDOWN_GRACE_MS) break
      this.#closingList.delete(conn)
      conn.socket.destroy()
    }
    for (const conn of this.#idle) {
      if (now - conn.lastSeen < this.opts.idleTimeoutMs) break
      this.#idle.delete(conn)
      conn.close('ERR_IDLE_TIMEOUT', `no command for ${this.opts.idleTimeoutMs} ms`)
    }
    expireTables(this, now)
    this.dialBack.sweep(now)
  }

  #onConnection = (socket: Socket): void => {
    const ip = plainIp(socket.remoteAddress)
    const port = socket.remotePort
    socket.on('error', noop)
    if (ip === undefined || port === undefined) {
      socket.destroy()
      return
    }
    if (this.#state !== 'listening') {
      reject(socket, 'ERR_SHUTTING_DOWN', 'the server is shutting down')
      return
    }
    if (this.#connections.size >= this.opts.maxConnections) {
      reject(socket, 'ERR_TOO_MANY_CONNECTIONS', 'the server is full; retry later')
      return
    }
    const fromIp = this.#perIp.get(ip) ?? 0
    if (fromIp >= this.opts.maxConnectionsPerIp) {
      reject(socket, 'ERR_TOO_MANY_CONNECTIONS', `too many connections from ${ip}`)
      return
    }
    socket.setNoDelay(true)
    socket.setKeepAlive(true, this.opts.keepAliveDelayMs)
    const decoder = new LineDecoder({ maxLineLength: this.#hardLineLimit })
    const conn = new Connection(
      this.#nextId++,
      ip,
      port,
      socket,
      decoder,
      this,
      this.now(),
      this.opts.lineBurst,
    )
    this.#connections.add(conn)
    this.#idle.add(conn)
    this.#perIp.set(ip, fromIp + 1)
    attachConnection(socket, conn)
    conn.send(`HELLO PYP2P/${PROTOCOL_VERSION} ${ip} ${port}${this.#helloSuffix}`)
  }

  /** @internal Bytes from a client: split into lines by framing's decoder; a line past the hard limit ends it. */
  onData(conn: Connection, chunk: Buffer): void {
    if (conn.closing) return
    try {
      conn.decoder.write(chunk, (line) => this.#onLine(conn, line))
    } catch (error) {
      if (!(error instanceof FramingError) || error !== conn.decoder.error) throw error
      this.log.warn('line over the hard limit: closing connection', { conn: conn.id, ip: conn.ip })
      conn.closing = true
      conn.socket.destroy()
    }
  }

  /** `CHECK`: reads nothing more from `conn` until the dial-back's reply is sent (replies stay in order). */
  check(conn: Connection, port: number, nonce: string): void {
    const started = this.dialBack.check(conn, port, nonce, this.now(), (reply) => {
      conn.send(reply)
      const lines = conn.deferred ?? []
      conn.deferred = undefined
      for (let i = 0; i < lines.length; i++) {
        if (conn.closing) return
        this.#dispatch(conn, lines[i] as string)
        // (#dispatch may have started another CHECK, setting conn.deferred again.)
        const waiting = conn.deferred as string[] | undefined
        if (waiting !== undefined) {
          // Another CHECK among them: the rest waits for its reply in turn.
          waiting.push(...lines.slice(i + 1))
          return
        }
      }
      if (!conn.closing) conn.socket.resume()
    })
    if (!started) return
    conn.deferred = []
    conn.socket.pause()
  }

  #onLine(conn: Connection, line: string): void {
    if (conn.closing) return
    const now = this.now()
    if (!conn.takeToken(now, this.opts.lineRate, this.opts.lineBurst)) {
      this.log.warn('flood: closing connection', { conn: conn.id, ip: conn.ip })
      conn.close('ERR_FLOOD', `more than ${this.opts.lineRate} lines per second`)
      return
    }
    conn.lastSeen = now
    if (this.#idle.delete(conn)) this.#idle.add(conn)
    // Counted against the flood limit now; handled once the running CHECK has its reply out.
    if (conn.deferred !== undefined) conn.deferred.push(line)
    else this.#dispatch(conn, line)
  }

  /** One line that passed the flood check: to a service, or parsed as a rendezvous command. */
  #dispatch(conn: Connection, line: string): void {
    if (this.#services.size > 0) {
      const space = line.indexOf(' ')
      const service = this.#services.get(space === -1 ? line : line.slice(0, space))
      if (service !== undefined) {
        const limit = service.maxLineLength ?? this.opts.maxLineLength
        if (line.length > limit) conn.close('ERR_LINE_TOO_LONG', `line over ${limit} characters`)
        else this.#guard(conn, () => service.handleLine(conn, line))
        return
      }
    }
    if (line.length > this.opts.maxLineLength) {
      conn.close('ERR_LINE_TOO_LONG', `line over ${this.opts.maxLineLength} characters`)
      return
    }
    let msg: ReturnType<typeof parseClientMessage>
    try {
      msg = parseClientMessage(line, { maxLineLength: this.opts.maxLineLength })
    } catch (error) {
      if (!isRendezvousProtocolError(error)) throw error
      conn.send(formatError(error.code, error.message))
      return
    }
    this.#guard(conn, () => handleCommand(this, conn, msg))
  }

  #guard(conn: Connection, fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.log.error('internal error handling a line', { conn: conn.id, error: (error as Error).stack })
      conn.sendError('ERR_INTERNAL', 'internal server error')
    }
  }

  /** @internal The client's socket closed: forget it everywhere. */
  onClose(conn: Connection): void {
    conn.closing = true
    this.#connections.delete(conn)
    this.#idle.delete(conn)
    this.#closingList.delete(conn)
    const n = (this.#perIp.get(conn.ip) ?? 1) - 1
    if (n === 0) this.#perIp.delete(conn.ip)
    else this.#perIp.set(conn.ip, n)
    forgetConnection(this, conn)
    this.dialBack.forget(conn)
    for (const service of new Set(this.#services.values())) {
      this.#guard(conn, () => service.connectionClosed?.(conn))
    }
    this.log.debug('connection closed', { conn: conn.id })
    if (this.#connections.size === 0) this.#allClosed?.()
  }
}
