/**
 * `BootstrapServer`: the facade that puts the parts together and owns their life (listen, sweep,
 * close, stats). Each part does one job: the listener accepts and keeps connections (listener.ts), the
 * dispatcher routes their lines (dispatcher.ts) to the rendezvous commands (commands.ts) or a service
 * (service-registry.ts, the embedded relay among them), the node and punch tables hold what the
 * commands decide, and the dial-back runs `CHECK`s. Time comes from one injectable clock.
 */
import type { AddressInfo } from 'node:net'
import type { RelayServer } from '@pyp2p/dht-msg/server'
import type { Clock, LimitHitCount } from '@pyp2p/limits'
import { HELLO_LIFETIME_PREFIX, PROTOCOL_VERSION } from '@pyp2p/rendezvous-protocol'
import type { ClusterLink } from './cluster/cluster-link.js'
import type { ListingCacheStats } from './cluster/listing-cache.js'
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import { DialBack } from './dial-back.js'
import { Dispatcher } from './dispatcher.js'
import { LimitLog } from './limit-log.js'
import { Listener } from './listener.js'
import type { Logger } from './logger.js'
import { isLoopback, NodeTable } from './node-table.js'
import { type BootstrapServerOptions, type ResolvedOptions, resolveOptions } from './options.js'
import { Ownership } from './ownership.js'
import { prefixLengths } from './prefix-options.js'
import { PunchTable } from './punch-table.js'
import { ServiceRegistry } from './service-registry.js'
import { plainIp } from './socket-listeners.js'
import type { ClusterStats } from './store/cluster-store.js'
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
  /** Network prefixes (IPv4 /24, IPv6 /48) holding at least one connection. */
  readonly prefixes: number
  /** Connections closed to admit a client from an under-represented prefix, since start. */
  readonly evictions: number
  /**
   * How often each limit fired since start, by name: `connections.per-ip`, `connections.per-prefix`,
   * `connections.full`, `connections.evicted`, `connections.handshake-timeout`, `connections.flood`,
   * `nodes.per-ip|per-prefix|total`, `punches.per-ip|per-prefix|full`, `checks.*`, and the embedded
   * relay's as `relay.*`.
   */
  readonly limits: Readonly<Record<string, number>>
  /** The (limit, prefix) pairs that fired most (at most 10), most first: who is pushing. */
  readonly limitsByPrefix: readonly LimitHitCount[]
  /**
   * Scale-out (`redis` option) once listening: this instance's id, `status` (`ok`, or `degraded` while
   * Redis is away or slow: served from local state), reconnections, failed or late Redis calls, skipped
   * unparseable entries and messages, punches coordinated by another instance. Absent without `redis`.
   */
  readonly redis?: ClusterStats & { readonly remotePunches: number; readonly listing: ListingCacheStats }
}

export class BootstrapServer {
  readonly opts: ResolvedOptions
  readonly log: Logger
  /** Where every expiry and rate limit reads the time (the `clock` option). */
  readonly clock: Clock
  readonly nodes: NodeTable
  readonly punches: PunchTable
  /** Every limit that fires, counted by name and prefix and logged (limit-log.ts). */
  readonly limitLog: LimitLog
  readonly dialBack: DialBack
  /** The embedded @pyp2p/dht-msg relay (same port), unless the `relay` option is false. */
  readonly relay: RelayServer | undefined
  readonly #services: ServiceRegistry
  readonly #listener: Listener
  readonly #dispatcher: Dispatcher
  readonly #ctx: CommandContext
  #allowLoopback = false
  #pingCounter = 0
  #coordinations = 0
  #sweepTimer: NodeJS.Timeout | undefined
  #cluster: ClusterLink | undefined
  #closing: Promise<void> | undefined

  constructor(options: BootstrapServerOptions = {}) {
    this.opts = resolveOptions(options)
    this.log = this.opts.logger
    this.clock = this.opts.clock
    const limitLog = new LimitLog(this.log, this.clock)
    this.limitLog = limitLog
    const lengths = prefixLengths(this.opts)
    this.nodes = new NodeTable(this.opts.maxNodes, this.opts.maxNodesPerIp, {
      maxPerPrefix: this.opts.maxNodesPerPrefix,
      lengths,
      onRefused: (reason, prefix) => limitLog.hit(`nodes.${reason}`, prefix),
    })
    this.punches = new PunchTable({
      capacity: this.opts.maxPendingPunches,
      maxPerIp: this.opts.maxPunchesPerIp,
      maxPerPrefix: this.opts.maxPunchesPerPrefix,
      lengths,
    })
    this.dialBack = new DialBack({
      timeoutMs: this.opts.dialBackTimeoutMs,
      burst: this.opts.checkBurst,
      intervalMs: this.opts.checkIntervalMs,
      maxPending: this.opts.maxPendingChecks,
      maxPendingPerIp: this.opts.maxPendingChecksPerIp,
      maxPendingPerPrefix: this.opts.maxPendingChecksPerPrefix,
      prefixBurst: this.opts.checkPrefixBurst,
      prefixIntervalMs: this.opts.checkPrefixIntervalMs,
      lengths,
      clock: this.clock,
      onLimit: (limit, prefix, ip) => limitLog.hit(limit, prefix, { ip }),
    })
    this.#services = new ServiceRegistry(this.opts, this.clock, (limit, prefix) =>
      limitLog.hit(`relay.${limit}`, prefix),
    )
    this.relay = this.#services.relay
    const clock = this.clock
    const self = this
    this.#ctx = {
      opts: this.opts,
      nodes: this.nodes,
      punches: this.punches,
      get allowLoopback() {
        return self.#allowLoopback
      },
      get cluster() {
        return self.#cluster
      },
      now: () => clock.now(),
      check: (conn, port, nonce) => this.#dispatcher.check(conn, port, nonce),
      refreshIdle: (conn) => {
        if (conn.remote !== true) this.#listener.refreshIdle(conn as Connection)
      },
      ping: (conn) => {
        if (conn.remote !== true) this.#ping(conn as Connection)
      },
      hold: (conn) => this.#dispatcher.hold(conn),
      coordinated: () => {
        this.#coordinations++
      },
      limitHit: (limit, prefix, fields) => limitLog.hit(limit, prefix, fields),
    }
    const ownership = new Ownership(this.opts.serverId)
    this.#dispatcher = new Dispatcher(this.#ctx, this.#services, this.dialBack, this.log, ownership)
    this.#listener = new Listener({
      opts: this.opts,
      clock,
      log: this.log,
      limits: limitLog,
      helloSuffix: `${lifetimeWord(this.opts.nodeLifetimeMs)}${this.#services.helloSuffix}`,
      helloWords: (connId) => ownership.helloWords(connId),
      hardLineLimit: this.#services.hardLineLimit,
      onLine: (conn, line) => this.#dispatcher.onLine(conn, line),
      onClosed: (conn) => this.#forget(conn),
    })
  }

  /** Hands out loopback addresses in `NODES` (the option, or: the server listens on loopback). */
  get allowLoopback(): boolean {
    return this.#allowLoopback
  }

  /** Starts listening; resolves with the bound address. Throws `ERR_LISTEN_FAILED`, `ERR_ABORTED`. */
  async listen(options: { signal?: AbortSignal } = {}): Promise<AddressInfo> {
    if (this.opts.redis !== undefined && this.#cluster === undefined) await this.#joinCluster(options.signal)
    let address: AddressInfo
    try {
      address = await this.#listener.listen(options.signal)
    } catch (error) {
      await this.#cluster?.close()
      throw error
    }
    this.#allowLoopback = this.opts.allowLoopback ?? isLoopback(plainIp(address.address) ?? '')
    // A real interval; what each sweep decides comes from the clock (tests call sweep() themselves).
    this.#sweepTimer = setInterval(this.sweep, this.opts.sweepIntervalMs)
    this.#sweepTimer.unref()
    this.log.info(`listening on ${address.address}:${address.port}`, {
      host: address.address,
      port: address.port,
      version: PROTOCOL_VERSION,
      relay: this.relay !== undefined,
      ...(this.#cluster !== undefined && { instance: this.#cluster.store.instance }),
    })
    return address
  }

  /** Scale-out: loads the Redis store (only now: without `redis`, ioredis is never loaded) and connects. */
  async #joinCluster(signal: AbortSignal | undefined): Promise<void> {
    const o = this.opts
    const [{ RedisClusterStore }, { ClusterLink }, { RelayBridge }] = await Promise.all([
      import('./store/redis-store.js'),
      import('./cluster/cluster-link.js'),
      import('./cluster/relay-bridge.js'),
    ])
    const store = new RedisClusterStore({
      url: o.redis as string,
      timeoutMs: o.redisTimeoutMs,
      connectTimeoutMs: o.redisConnectTimeoutMs,
      prefix: o.redisKeyPrefix,
      now: () => this.clock.now(),
    })
    await store.connect(signal)
    const link = new ClusterLink(this.#ctx, store, this.log)
    if (this.relay !== undefined) link.relay = new RelayBridge(this.relay, store, o.redisEntryTtlMs)
    this.#cluster = link
  }

  /** The bound address while listening. */
  get address(): AddressInfo | undefined {
    return this.#listener.address
  }

  stats(): BootstrapServerStats {
    return {
      connections: this.#listener.size,
      nodes: this.nodes.size,
      passiveNodes: this.nodes.passiveCount,
      simultaneousNodes: this.nodes.simultaneousCount,
      pendingPunches: this.punches.size,
      coordinations: this.#coordinations,
      pendingChecks: this.dialBack.pendingCount,
      relaySessions: this.relay?.sessionCount ?? 0,
      relayQueued: this.relay?.queuedCount ?? 0,
      prefixes: this.#listener.prefixCount,
      evictions: this.#listener.evictions,
      limits: this.limitLog.totals(),
      limitsByPrefix: this.limitLog.top(10),
      ...(this.#cluster !== undefined && { redis: this.#cluster.stats() }),
    }
  }

  /**
   * One pass over everything that can time out, as of `clock.now()`: connections idle past
   * `idleTimeoutMs` or lingering after close, punches past `challengeTimeoutMs`, registrations past
   * `nodeLifetimeMs`, refilled `CHECK` buckets. The sweep timer calls it every `sweepIntervalMs`; a test
   * on a manual clock calls it after `advance()`. Each table is walked from its oldest entry only.
   */
  readonly sweep = (): void => {
    const now = this.clock.now()
    this.#listener.sweep(now)
    expireTables(this.#ctx, now)
    this.#cluster?.sweep(now)
    this.dialBack.sweep(now)
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
    clearInterval(this.#sweepTimer)
    this.dialBack.close()
    const wasListening = await this.#listener.close()
    await this.#services.close()
    await this.#cluster?.close()
    this.nodes.clear()
    if (wasListening) this.log.info('closed')
  }

  /** Sends a PING to measure the connection's RTT, unless one is already out. */
  #ping(conn: Connection): void {
    // performance.now(), not the clock: the PONG's arrival measures the network's real round trip.
    if (conn.pingToken !== undefined && performance.now() - conn.pingAt < this.opts.challengeTimeoutMs) return
    conn.pingToken = (++this.#pingCounter).toString(36)
    conn.pingAt = performance.now()
    conn.send(`PING ${conn.pingToken}`)
  }

  /** A client's socket closed: forget it in the tables, the dial-back and the services. */
  #forget(conn: Connection): void {
    forgetConnection(this.#ctx, conn)
    this.dialBack.forget(conn)
    this.#services.connectionClosed(conn, (fn) => this.#dispatcher.guard(conn, fn))
  }
}

/** ` lifetime=<seconds>` for the `HELLO` (PROTOCOL.md): rounded down, so a client refreshes in time. */
function lifetimeWord(nodeLifetimeMs: number): string {
  const seconds = Math.floor(nodeLifetimeMs / 1000)
  return seconds >= 1 ? ` ${HELLO_LIFETIME_PREFIX}${seconds}` : ''
}
