/**
 * The scale-out link (`ctx.cluster`): the command handlers' `ClusterHooks` on a `ClusterStore`, the
 * messages other instances send this one, and keeping this instance's entries alive in the store
 * (refreshed every third of their TTL; written again when Redis comes back after an outage). Every wait
 * for the store is bounded by its timeout; then the command is served from this instance's tables and
 * the link reports `degraded` (logs and `stats().redis`).
 */
import { formatServerMessage } from '@pyp2p/rendezvous-protocol'
import type { Connection } from '../connection.js'
import type { CommandContext } from '../context.js'
import { FIGHT_HOLD_MS } from '../fight-delay.js'
import type { Logger } from '../logger.js'
import type { NodeRecord } from '../node-table.js'
import type {
  ClusterStats,
  ClusterStore,
  PeerMessage,
  RegisterVerdict,
  SharedNode,
} from '../store/cluster-store.js'
import { redactRedisUrl } from '../store/redis-url.js'
import { bootstrapListing } from './bootstrap-listing.js'
import type { ClusterHooks } from './hooks.js'
import { ListingCache, type ListingCacheStats } from './listing-cache.js'
import { remoteCandidate, remoteDrop, remoteGone, remoteRtt } from './peer-commands.js'
import { RemotePunches } from './remote-punches.js'
import { sha256, sharedEntry } from './shared-entry.js'

/** What the link tells the relay bridge (relay-bridge.ts), if the embedded relay runs. */
export interface RelayHooks {
  /** Relay messages and session announcements from other instances. */
  onPeer(msg: Extract<PeerMessage, { op: 'msg' | 'session' }>): void
  /** Relay nodes connected here now (their directory entries are refreshed with the node entries). */
  connectedNodes(): readonly string[]
}

export class ClusterLink implements ClusterHooks {
  readonly store: ClusterStore
  readonly #ctx: CommandContext
  readonly #log: Logger
  readonly #remote = new RemotePunches()
  readonly #refreshTimer: NodeJS.Timeout
  readonly #listing: ListingCache
  #relay: RelayHooks | undefined
  /** Removals Redis did not take while degraded: sent again when it answers. */
  readonly #unsent = new Map<string, string>()
  #degradedAt = 0
  #closed = false

  constructor(ctx: CommandContext, store: ClusterStore, log: Logger) {
    this.#ctx = ctx
    this.store = store
    this.#log = log
    this.#listing = new ListingCache(store, {
      refreshMs: ctx.opts.redisListingRefreshMs,
      size: ctx.opts.redisListingSize,
      maxStaleMs: ctx.opts.redisEntryTtlMs,
      simultaneous: ctx.opts.bootstrapSimultaneous,
      now: ctx.now,
    })
    const where = redactRedisUrl(ctx.opts.redis ?? '')
    store.onMessage((msg) => this.#onPeer(msg))
    store.onStatus((status, why) => {
      if (status === 'degraded') {
        this.#degradedAt = ctx.now()
        this.#log.warn("redis degraded: serving this instance's nodes only", { redis: where, why })
        return
      }
      this.#log.info("redis ok: publishing this instance's nodes again", { redis: where, why })
      // After a reconnect (Redis may have restarted empty): everything. After late answers on a live
      // connection: what was registered or removed since (Redis kept the rest).
      const reconnected = why === 'reconnected' || why === 'connected'
      void this.#publishLive(
        reconnected ? Number.NEGATIVE_INFINITY : this.#degradedAt - ctx.opts.redisTimeoutMs,
      )
    })
    this.#refreshTimer = setInterval(
      () => void this.#publishLive('refresh'),
      Math.floor(ctx.opts.redisEntryTtlMs / 3),
    )
    this.#refreshTimer.unref()
  }

  set relay(hooks: RelayHooks | undefined) {
    this.#relay = hooks
  }

  stats(): ClusterStats & { readonly remotePunches: number; readonly listing: ListingCacheStats } {
    return { ...this.store.stats(), remotePunches: this.#remote.size, listing: this.#listing.stats() }
  }

  /** From the listing cache (listing-cache.ts) and this instance's own tables; waits only when cold. */
  bootstrap(conn: Connection, count: number, marked: boolean): void {
    bootstrapListing(this.#ctx, this.#listing, conn, count, marked)
  }

  register(conn: Connection, rec: NodeRecord, done: (verdict: RegisterVerdict | undefined) => void): void {
    const resume = this.#ctx.hold(conn)
    void this.store.register(this.#shared(rec), this.#ttl(rec), this.#ctx.opts.maxNodesPerIp).then((v) => {
      if (v?.ok === true && v.previous !== undefined && v.previous !== this.store.instance) {
        void this.store.publish(v.previous, { op: 'drop', node: rec.nodeId, replaced: true })
      }
      done(v)
      resume()
    })
  }

  unregister(rec: NodeRecord): void {
    this.#unregister(rec.nodeId, this.#ctx.nodes.hostKey(rec.ip))
  }

  #unregister(nodeId: string, ipKey: string): void {
    void this.store.unregister(nodeId, ipKey).then((ok) => {
      if (!ok) this.#unsent.set(nodeId, ipKey)
    })
  }

  clear(conn: Connection, nodeId: string, token: string, proven: boolean): void {
    const resume = this.#ctx.hold(conn)
    void this.store.clear(nodeId, sha256(token), proven).then(({ verdict, instance }) => {
      if (verdict === 'ok') {
        if (instance !== undefined && instance !== this.store.instance) {
          void this.store.publish(instance, { op: 'drop', node: nodeId, replaced: false })
        }
        conn.send(formatServerMessage({ type: 'OK', what: 'CLEAR' }))
      } else if (verdict === 'proof') {
        conn.sendError(
          'ERR_SIGNATURE_REQUIRED',
          `node ${nodeId} is held with proof; only a signed command can act as it; nothing changed`,
        )
      } else {
        const why = verdict === 'unavailable' ? ' (the network registry did not answer)' : ''
        conn.sendError('ERR_NO_SUCH_NODE', `no registration of ${nodeId} with this clear token${why}`)
      }
      resume()
    })
  }

  candidate(
    conn: Connection,
    target: string,
    nodeId: string,
    ports: readonly number[],
    proven: boolean,
  ): void {
    const ctx = this.#ctx
    if (conn.started >= ctx.opts.maxPunchesPerConnection) {
      conn.sendError('ERR_TOO_MANY_CANDIDATES', 'this connection has too many pending punches')
      return
    }
    const resume = ctx.hold(conn)
    void this.#candidate(conn, target, nodeId, ports, proven).then((line) => {
      conn.send(line)
      resume()
    })
  }

  measured(conn: Connection): void {
    for (const p of this.#remote.of(conn)) {
      void this.store.publish(p.instance, { op: 'rtt', punch: p.id, rtt: conn.rtt })
    }
  }

  connectionClosed(conn: Connection): void {
    for (const p of this.#remote.of(conn)) {
      this.#remote.take(p.id)
      void this.store.publish(p.instance, { op: 'gone', punch: p.id })
    }
  }

  /** Ends punches whose coordinating instance went silent (it would have sent FIGHT or an error). */
  sweep(now: number): void {
    const { challengeTimeoutMs, redisTimeoutMs } = this.#ctx.opts
    this.#remote.expire(now - challengeTimeoutMs - FIGHT_HOLD_MS - 2 * redisTimeoutMs, (p) => {
      p.conn.sendError('ERR_PUNCH_TIMEOUT', 'the target did not answer the challenge in time', p.id)
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#refreshTimer)
    this.#remote.clear()
    await this.store.close()
  }

  /** The reply line to a `CANDIDATE` for a target connected elsewhere (or not at all). */
  async #candidate(
    conn: Connection,
    target: string,
    nodeId: string,
    ports: readonly number[],
    proven: boolean,
  ): Promise<string> {
    const ctx = this.#ctx
    const noSuchNode = `ERROR ERR_NO_SUCH_NODE node ${target} is not a connected simultaneous node`
    const entry = await this.store.lookup(target)
    if (entry === undefined) return `${noSuchNode} (the network registry did not answer)`
    if (entry === null || entry.nodeType !== 'simultaneous' || entry.instance === this.store.instance) {
      return noSuchNode
    }
    // The FIGHT timing needs this side's round trip: measure it now if it is not known yet.
    if (conn.rtt === 0) ctx.ping(conn)
    const { req, reply } = this.#remote.request(2 * ctx.opts.redisTimeoutMs)
    const sent = await this.store.publish(entry.instance, {
      op: 'candidate',
      from: this.store.instance,
      req,
      ip: conn.ip,
      target,
      node: nodeId,
      ports,
      rtt: conn.rtt,
      measuring: conn.rtt === 0 && conn.pingToken !== undefined,
      proven,
      inbound: ctx.punches.inboundOf(conn),
    })
    if (!sent) this.#remote.replied(req, `${noSuchNode} (the network registry did not answer)`)
    const line = (await reply) ?? `${noSuchNode} (its server did not answer in time)`
    const id = /^PREDICTION SET ([0-9a-f]+)$/.exec(line)?.[1]
    if (id !== undefined) {
      if (conn.isOpen) this.#remote.add({ id, conn, instance: entry.instance, createdAt: ctx.now() })
      else void this.store.publish(entry.instance, { op: 'gone', punch: id })
    }
    return line
  }

  #onPeer(msg: PeerMessage): void {
    if (this.#closed) return
    const ctx = this.#ctx
    switch (msg.op) {
      case 'candidate':
        remoteCandidate(ctx, msg, (to, m) => void this.store.publish(to, m))
        return
      case 'reply':
        this.#remote.replied(msg.req, msg.line)
        return
      case 'line':
        this.#remote.take(msg.punch)?.conn.send(msg.line)
        return
      case 'rtt':
        remoteRtt(ctx, msg)
        return
      case 'gone':
        remoteGone(ctx, msg)
        return
      case 'drop':
        remoteDrop(ctx, msg)
        return
      case 'msg':
      case 'session':
        if (msg.op === 'session' && msg.from === this.store.instance) return
        this.#relay?.onPeer(msg)
        return
    }
  }

  /**
   * Writes this instance's entries to the store: the live simultaneous ones (`refresh`), or every one
   * registered since `since` (and the removals Redis missed).
   */
  async #publishLive(mode: 'refresh' | number): Promise<void> {
    if (this.#closed) return
    const refresh = mode === 'refresh'
    const live: SharedNode[] = []
    for (const rec of this.#ctx.nodes.values()) {
      const open = rec.nodeType === 'passive' || rec.conn?.isOpen === true
      const wanted = refresh ? rec.nodeType === 'simultaneous' : rec.registeredAt >= mode
      if (open && wanted) live.push(this.#shared(rec))
    }
    if (!refresh) {
      for (const [nodeId, ipKey] of [...this.#unsent]) {
        this.#unsent.delete(nodeId)
        if (this.#ctx.nodes.get(nodeId) === undefined) this.#unregister(nodeId, ipKey)
      }
    }
    const ok = await this.store.republish(live, (n) => this.#ttl(this.#ctx.nodes.get(n.nodeId)))
    const relayNodes = this.#relay?.connectedNodes() ?? []
    this.store.relayHere(relayNodes, this.#ctx.opts.redisEntryTtlMs)
    if (!refresh && ok) this.#log.info('republished', { nodes: live.length, relayNodes: relayNodes.length })
  }

  #ttl(rec: NodeRecord | undefined): number {
    const o = this.#ctx.opts
    if (rec === undefined || rec.nodeType === 'simultaneous') return o.redisEntryTtlMs
    return Math.max(1, rec.registeredAt + o.nodeLifetimeMs - this.#ctx.now())
  }

  #shared(rec: NodeRecord): SharedNode {
    return sharedEntry(rec, this.store.instance, this.#ctx.nodes.hostKey(rec.ip))
  }
}
