/**
 * `RendezvousSession`: a node's one long-lived place on a rendezvous (bootstrap) server. It connects to
 * the first of several servers that answers, keeps the connection open with `PING`s so the server's
 * idle timeout does not close it, keeps the node's registration (`PASSIVE|SIMULTANEOUS READY` with a
 * clear token) and, when the connection holding it drops, connects and registers again by itself with
 * a doubling back-off. `leave()` ends it cleanly (`CLEAR <node-id> <clear-token>` then `QUIT`), so the
 * server forgets the node even when the registration outlived its connection. A `client` event per new
 * connection lets a challenge answerer re-attach.
 *
 * States: idle → connecting → open → (dropped while registered) backing-off → connecting → ... → closed.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { NodeEntry } from '@pyp2p/rendezvous-protocol'
import { DEFAULT_PORT } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { abortable } from './abortable.js'
import {
  CLEAR_TOKEN_BYTES,
  CONNECT_TIMEOUT_MS,
  REPLY_TIMEOUT_MS,
  SESSION_KEEPALIVE_MS,
  SESSION_LEAVE_TIMEOUT_MS,
  SESSION_RETRY_MAX_MS,
  SESSION_RETRY_MIN_MS,
} from './constants.js'
import { PunchError } from './errors.js'
import { RendezvousClient } from './rendezvous-client.js'
import type { ServerAddress } from './rendezvous-connect.js'
import {
  checkSessionOptions,
  type Registration,
  type RegistrationKind,
  type RendezvousSessionEvents,
  type RendezvousSessionOptions,
  type SessionTimers,
  systemTimers,
} from './session-options.js'

const log = createDebug('pyp2p:punch:session')

export class RendezvousSession extends EventEmitter<RendezvousSessionEvents> {
  readonly nodeId: string
  readonly #servers: Required<ServerAddress>[]
  readonly #o: RendezvousSessionOptions
  readonly #timers: SessionTimers
  readonly #closing = new AbortController()
  /** Our secret for `CLEAR <node-id> <clear-token>`, sent with every registration. */
  readonly #clearToken = randomBytes(CLEAR_TOKEN_BYTES).toString('base64url')
  #client: RendezvousClient | undefined
  #server: Required<ServerAddress> | undefined
  #opening: Promise<RendezvousClient> | undefined
  #registration: Registration | undefined
  #keepAlive: unknown
  #retry: unknown
  #retryDelay: number
  #pings = 0

  constructor(options: RendezvousSessionOptions) {
    super()
    this.nodeId = checkSessionOptions(options)
    this.#servers = options.servers.map((s) => ({ host: s.host, port: s.port ?? DEFAULT_PORT }))
    this.#o = options
    this.#timers = options.timers ?? systemTimers
    this.#retryDelay = options.retryMinMs ?? SESSION_RETRY_MIN_MS
  }

  /** The server we talk to (after `open()`). */
  get server(): Required<ServerAddress> | undefined {
    return this.#server
  }

  /** The open connection, if any. */
  get client(): RendezvousClient | undefined {
    return this.#client?.isOpen ? this.#client : undefined
  }

  /** The address and port the server saw our connection come from. */
  get observed(): { ip: string; port: number } | undefined {
    return this.#client?.observed
  }

  /** The local address of our connection to the server (the interface that reaches it). */
  get localAddress(): string | undefined {
    return this.#client?.connection.localAddress
  }

  /** What we asked the server to keep (kept across reconnects until `leave()`). */
  get registration(): Registration | undefined {
    return this.#registration
  }

  /** Whether we are registered on an open connection now. */
  get isRegistered(): boolean {
    return this.#registration !== undefined && this.client !== undefined
  }

  get isClosed(): boolean {
    return this.#closing.signal.aborted
  }

  /**
   * The open connection, or a new one to the first server that answers (the last one that answered is
   * tried first). Repeats our registration on a new connection. Throws `PunchError`:
   * `ERR_SERVER_UNREACHABLE` naming every server tried (the last failure as cause), `ERR_ABORTED`.
   */
  open(options: { signal?: AbortSignal } = {}): Promise<RendezvousClient> {
    const { signal } = options
    if (this.isClosed) return Promise.reject(PunchError.ABORTED('coordination', this.#closing.signal.reason))
    if (this.#client?.isOpen) return Promise.resolve(this.#client)
    if (this.#opening === undefined) {
      this.#opening = this.#connect().finally(() => {
        this.#opening = undefined
      })
      // Shared by callers that may all stop waiting (their signals): its failure is theirs to see.
      this.#opening.catch(() => undefined)
    }
    return signal === undefined ? this.#opening : abortable(this.#opening, signal)
  }

  /** `BOOTSTRAP <count>`: up to `count` passive nodes the server knows. */
  async bootstrap(count: number, options: { signal?: AbortSignal } = {}): Promise<readonly NodeEntry[]> {
    const client = await this.open(options)
    return client.bootstrap(count, { ...options, timeout: this.#o.replyTimeout ?? REPLY_TIMEOUT_MS })
  }

  /**
   * `PASSIVE READY` / `SIMULTANEOUS READY` with our clear token; kept and repeated by the session on
   * every new connection. A second registration replaces the first (one per node id on a server).
   */
  async register(
    kind: RegistrationKind,
    port: number,
    maxInbound: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const client = await this.open(options)
    const reg = { kind, port, maxInbound }
    await this.#register(client, reg, options.signal)
    this.#registration = reg
  }

  /**
   * Leaves the server: `CLEAR <node-id> <clear-token>` (it forgets our registration, whichever
   * connection made it) then `QUIT`, each bounded; then closes. When our connection had dropped, the
   * CLEAR goes on a new one; the token makes that work without registering again. Never rejects.
   */
  async leave(): Promise<void> {
    this.#stopTimers()
    const timeout = this.#o.leaveTimeout ?? SESSION_LEAVE_TIMEOUT_MS
    const signal = AbortSignal.timeout(timeout)
    const registered = this.#registration !== undefined
    this.#registration = undefined
    try {
      if (registered && !this.isClosed) {
        try {
          await this.#clear(signal, timeout)
        } catch (err) {
          // A server verdict (e.g. ERR_NO_SUCH_NODE: the registration had expired) is final. Otherwise
          // the connection closed under us (the server's idle timeout races us): once more, on a new one.
          if ((err as { serverCode?: unknown }).serverCode !== undefined) throw err
          log('CLEAR failed (%s): clearing on a new connection', (err as Error).message)
          this.#client?.close()
          await this.#clear(signal, timeout)
        }
      }
      await this.#client?.quit({ timeout })
    } catch (err) {
      log('leaving the rendezvous server: %s', (err as Error).message)
    } finally {
      this.close()
    }
  }

  /** Closes the connection at once and stops reconnecting (idempotent). */
  close(): void {
    if (!this.isClosed) this.#closing.abort(PunchError.ABORTED('coordination', 'session closed'))
    this.#stopTimers()
    this.#client?.close()
  }

  async #clear(signal: AbortSignal, timeout: number): Promise<void> {
    const client = await this.open({ signal })
    const clear = { type: 'CLEAR', nodeId: this.nodeId, clearToken: this.#clearToken } as const
    await client.request(clear, { signal, timeout })
  }

  async #connect(): Promise<RendezvousClient> {
    const order = this.#server === undefined ? this.#servers : [this.#server, ...this.#servers]
    const tried: string[] = []
    let last: unknown
    for (const server of order) {
      const where = `${server.host}:${server.port}`
      if (tried.includes(where)) continue
      tried.push(where)
      const signal = this.#closing.signal
      if (signal.aborted) throw PunchError.ABORTED('coordination', signal.reason)
      try {
        const client = await RendezvousClient.connect({
          server,
          nodeId: this.nodeId,
          ...(this.#o.identity !== undefined && { identity: this.#o.identity }),
          timeout: this.#o.connectTimeout ?? CONNECT_TIMEOUT_MS,
          signal,
          ...(this.#o.localAddress !== undefined && { localAddress: this.#o.localAddress }),
        })
        this.#adopt(client, server)
        if (this.#registration !== undefined) {
          try {
            await this.#register(client, this.#registration, signal)
          } catch (err) {
            client.close() // a connection without our registration is no use to a registered node
            throw err
          }
        }
        return client
      } catch (err) {
        if (signal.aborted) throw PunchError.ABORTED('coordination', signal.reason)
        log('rendezvous server %s: %s', where, (err as Error).message)
        last = err
      }
    }
    throw PunchError.SERVER_UNREACHABLE('coordination', tried.join(', '), last)
  }

  async #register(client: RendezvousClient, reg: Registration, signal: AbortSignal | undefined) {
    await client.request(
      {
        type: 'READY',
        nodeType: reg.kind,
        port: reg.port,
        maxInbound: reg.maxInbound,
        nodeId: this.nodeId,
        clearToken: this.#clearToken,
      },
      { timeout: this.#o.replyTimeout ?? REPLY_TIMEOUT_MS, ...(signal !== undefined && { signal }) },
    )
    this.#retryDelay = this.#o.retryMinMs ?? SESSION_RETRY_MIN_MS
    log('registered %s as %s on %s:%d', this.nodeId, reg.kind, client.observed.ip, client.observed.port)
    this.emit('registered', { ...reg, observed: { ...client.observed } })
  }

  #adopt(client: RendezvousClient, server: Required<ServerAddress>): void {
    if (this.#client !== client) this.#client?.close()
    this.#client = client
    this.#server = server
    log('server %s:%d sees us at %s:%d', server.host, server.port, client.observed.ip, client.observed.port)
    client.once('close', (info) => this.#onDrop(client, info.error))
    this.#armKeepAlive(client)
    this.emit('client', client, server)
  }

  #armKeepAlive(client: RendezvousClient): void {
    this.#timers.clearTimeout(this.#keepAlive)
    const handle = this.#timers.setTimeout(() => {
      if (this.#client !== client || !client.isOpen) return
      client.request({ type: 'PING', token: `k${++this.#pings}` }).catch((err: unknown) => {
        log('keep-alive PING: %s', (err as Error).message)
      })
      this.#armKeepAlive(client)
    }, this.#o.keepAliveMs ?? SESSION_KEEPALIVE_MS)
    // The keep-alive alone must not keep a process alive.
    ;(handle as { unref?: () => void } | undefined)?.unref?.()
    this.#keepAlive = handle
  }

  #onDrop(client: RendezvousClient, error: Error | undefined): void {
    if (this.#client !== client) return
    this.#timers.clearTimeout(this.#keepAlive)
    if (this.isClosed || this.#registration === undefined) return
    log('connection dropped (%s): registering again', error?.message ?? 'closed')
    this.emit('unregistered', error === undefined ? {} : { error })
    this.#scheduleRetry()
  }

  #scheduleRetry(): void {
    if (this.isClosed || this.#retry !== undefined) return
    const delay = this.#retryDelay
    this.#retryDelay = Math.min(delay * 2, this.#o.retryMaxMs ?? SESSION_RETRY_MAX_MS)
    this.#retry = this.#timers.setTimeout(() => {
      this.#retry = undefined
      if (this.isClosed || this.#registration === undefined || this.#client?.isOpen) return
      this.open().catch((err: unknown) => {
        if (this.isClosed) return
        log('registering again failed: %s', (err as Error).message)
        this.emit('retry-failed', { error: err as Error, delayMs: this.#retryDelay })
        this.#scheduleRetry()
      })
    }, delay)
  }

  #stopTimers(): void {
    this.#timers.clearTimeout(this.#keepAlive)
    this.#timers.clearTimeout(this.#retry)
    this.#keepAlive = undefined
    this.#retry = undefined
  }
}
