/**
 * `RendezvousSession`: a node's one long-lived place on rendezvous (bootstrap) servers. It keeps the
 * connection alive with `PING`s (unanswered = dead), keeps the node's registration (`READY` with a clear
 * token) and repeats it before the server's node lifetime ends; when the connection drops it registers
 * again by itself (jittered exponential back-off, failing over through its servers) and, while on a
 * fallback, probes the preferred (first) server and moves back to it. `leave()` = `CLEAR` + `QUIT`.
 * States: idle → connecting → open → (dropped while registered) backing-off → connecting → ... → closed;
 * events `client`, `registered`, `server:lost`, `server:restored`, `server:failover`.
 */
import { EventEmitter } from 'node:events'
import type { NodeEntry } from '@pyp2p/rendezvous-protocol'
import { DEFAULT_PORT } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { abortable } from './abortable.js'
import { PunchError } from './errors.js'
import type { RendezvousClient } from './rendezvous-client.js'
import { Backoff } from './session-backoff.js'
import {
  type DialOptions,
  dialFirst,
  dialServer,
  type Server,
  serverOrder,
  whereOf,
} from './session-connect.js'
import { KeepAlive } from './session-keepalive.js'
import { leaveServer } from './session-leave.js'
import {
  checkSessionOptions,
  type RegisterReason,
  type Registration,
  type RegistrationKind,
  type RendezvousSessionEvents,
  type RendezvousSessionOptions,
  type ResolvedSessionTuning,
  refreshDelay,
  resolveSessionTuning,
} from './session-options.js'
import { Outage } from './session-outage.js'
import { PreferredProbe } from './session-preferred.js'
import { Registrar } from './session-registrar.js'
import { SessionTimer } from './session-timer.js'

const log = createDebug('pyp2p:punch:session')

export class RendezvousSession extends EventEmitter<RendezvousSessionEvents> {
  readonly nodeId: string
  readonly #servers: Server[]
  readonly #t: ResolvedSessionTuning
  readonly #closing = new AbortController()
  readonly #registrar: Registrar
  readonly #backoff: Backoff
  readonly #keepAlive: KeepAlive
  readonly #retry: SessionTimer
  readonly #probe: PreferredProbe
  readonly #refresh: SessionTimer
  #client: RendezvousClient | undefined
  #server: Server | undefined
  #opening: Promise<RendezvousClient> | undefined
  #registration: Registration | undefined
  readonly #outage: Outage
  readonly #dial: DialOptions
  #dropReason: string | undefined

  constructor(options: RendezvousSessionOptions) {
    super()
    this.nodeId = checkSessionOptions(options)
    this.#servers = options.servers.map((s) => ({ host: s.host, port: s.port ?? DEFAULT_PORT }))
    this.#t = resolveSessionTuning(options)
    this.#outage = new Outage(this.#t.now)
    this.#dial = { ...this.#t.dial, nodeId: this.nodeId, signal: this.#closing.signal }
    this.#backoff = new Backoff(this.#t.backoff)
    const timers = this.#t.timers
    this.#registrar = new Registrar(this.nodeId, this.#t.replyTimeout, this.#t.leaveTimeout)
    this.#keepAlive = new KeepAlive(new SessionTimer(timers, true), this.#t.keepAliveMs, this.#t.replyTimeout)
    this.#retry = new SessionTimer(timers, false)
    this.#probe = new PreferredProbe(
      this.#servers[0],
      {
        current: () => {
          const [client, server] = [this.client, this.#server]
          if (client === undefined || server === undefined || this.isClosed) return
          return { client, server, busy: this.#opening !== undefined, registered: this.isRegistered }
        },
        dial: (server) => dialServer(server, this.#dial),
        register: (client) => this.#registrar.ready(client, this.#registration!, this.#closing.signal),
        clear: (client) => this.#registrar.clearQuietly(client),
        moveTo: (client, server, from) => {
          this.#adopt(client, server)
          if (this.#registration !== undefined) this.#registered(client, this.#registration, 'failover')
          const reason = 'preferred server is back'
          this.emit('server:failover', { from: whereOf(from), to: whereOf(server), reason, preferred: true })
        },
      },
      new SessionTimer(timers, true),
      this.#t.preferredProbeMs,
    )
    this.#refresh = new SessionTimer(timers, true)
  }

  /** The server we talk to (after `open()`). */
  get server(): Server | undefined {
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
   * The open connection, or a new one to the first server that answers (`serverOrder`), registered when we
   * are. Throws `PunchError`: `ERR_SERVER_UNREACHABLE` naming every server tried, `ERR_ABORTED`.
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
    return client.bootstrap(count, { ...options, timeout: this.#t.replyTimeout })
  }

  /**
   * `PASSIVE|SIMULTANEOUS READY` with our clear token, repeated on every new connection and before the
   * server's node lifetime ends; a second registration replaces the first (one per node id on a server).
   */
  async register(
    kind: RegistrationKind,
    port: number,
    maxInbound: number,
    options: { signal?: AbortSignal } = {},
  ) {
    const client = await this.open(options)
    const reg = { kind, port, maxInbound }
    await this.#register(client, reg, 'register', options.signal)
    this.#registration = reg
    this.#probe.arm()
  }

  /**
   * Leaves the server: `CLEAR <node-id> <clear-token>` (it forgets our registration, whichever
   * connection made it) then `QUIT`, each bounded; then closes. When our connection had dropped, the
   * CLEAR goes on a new one; the token makes that work without registering again. Never rejects.
   */
  async leave(): Promise<void> {
    this.#stopTimers()
    const registered = this.#registration !== undefined && !this.isClosed
    this.#registration = undefined
    const host = {
      registrar: this.#registrar,
      registered,
      open: this.open.bind(this),
      current: () => this.#client,
    }
    await leaveServer(host, this.#t.leaveTimeout)
    this.close()
  }

  /** Closes the connection at once and stops reconnecting (idempotent). */
  close(): void {
    if (!this.isClosed) this.#closing.abort(PunchError.ABORTED('coordination', 'session closed'))
    this.#stopTimers()
    this.#client?.close()
  }

  async #connect(): Promise<RendezvousClient> {
    const order = serverOrder(this.#servers, this.#server)
    const reason = this.#outage.ongoing ? 'reconnect' : 'register'
    const reg = this.#registration
    const { client, server } = await dialFirst(order, this.#dial, async (c) => {
      if (reg !== undefined) await this.#registrar.ready(c, reg, this.#closing.signal)
    })
    this.#adopt(client, server)
    if (reg !== undefined) this.#registered(client, reg, reason)
    this.#backoff.reset()
    const { restored, failover } = this.#outage.end(whereOf(server))
    if (failover !== undefined) this.emit('server:failover', failover)
    if (restored !== undefined) {
      log('restored on %s after %d ms (%s)', restored.server, Math.round(restored.downMs), restored.reason)
      this.emit('server:restored', restored)
    }
    this.#probe.arm()
    return client
  }

  async #register(client: RendezvousClient, reg: Registration, reason: RegisterReason, signal?: AbortSignal) {
    await this.#registrar.ready(client, reg, signal)
    this.#registered(client, reg, reason)
  }

  #registered(client: RendezvousClient, reg: Registration, reason: RegisterReason): void {
    this.#backoff.reset()
    log('registered as %s (%s), seen at %s:%d', reg.kind, reason, client.observed.ip, client.observed.port)
    this.#refresh.arm(() => this.#refreshNow(), refreshDelay(this.#t, client.lifetimeMs))
    this.emit('registered', { ...reg, observed: { ...client.observed }, reason })
  }

  /** Re-advertise before the server's node lifetime ends (the original re-advertised every 12 h of 24). */
  #refreshNow(): void {
    const reg = this.#registration
    const client = this.client
    if (client === undefined || reg === undefined || this.isClosed) return
    this.#register(client, reg, 'refresh', this.#closing.signal).catch((err: unknown) => {
      if (this.#client === client) this.#drop(client, `re-advertising failed: ${(err as Error).message}`)
    })
  }

  #adopt(client: RendezvousClient, server: Server): void {
    const old = this.#client
    this.#client = client
    this.#server = server
    if (old !== client) old?.close()
    log('server %s:%d sees us at %s:%d', server.host, server.port, client.observed.ip, client.observed.port)
    client.once('close', (info) => this.#onDrop(client, info.error))
    this.#keepAlive.start(client, (reason) => {
      if (this.#client === client) this.#drop(client, reason)
    })
    this.emit('client', client, server)
  }

  /** Closes `client` as dead, with the reason `server:lost` will give. */
  #drop(client: RendezvousClient, reason: string): void {
    this.#dropReason = reason
    client.close()
  }

  #onDrop(client: RendezvousClient, error: Error | undefined): void {
    if (this.#client !== client) return
    this.#keepAlive.clear()
    this.#refresh.clear()
    this.#probe.clear()
    if (this.isClosed) return
    const server = this.#server === undefined ? '?' : whereOf(this.#server)
    const reason = this.#dropReason ?? error?.message ?? 'connection closed by the server'
    this.#dropReason = undefined
    this.#outage.lose(server, reason)
    log('connection to %s dropped (%s)', server, reason)
    this.emit('server:lost', { server, reason, ...(error !== undefined && { error }) })
    if (this.#registration === undefined) return
    this.emit('unregistered', error === undefined ? {} : { error })
    this.#scheduleRetry()
  }

  #scheduleRetry(): void {
    if (this.isClosed || this.#retry.armed) return
    const delay = this.#backoff.next()
    this.#retry.arm(() => {
      if (this.isClosed || this.#registration === undefined || this.#client?.isOpen) return
      this.open().catch((err: unknown) => {
        if (this.isClosed) return
        log('registering again failed: %s', (err as Error).message)
        this.emit('retry-failed', { error: err as Error, delayMs: this.#backoff.nextBase })
        this.#scheduleRetry()
      })
    }, delay)
  }

  #stopTimers(): void {
    this.#keepAlive.clear()
    this.#retry.clear()
    this.#probe.clear()
    this.#refresh.clear()
  }
}
