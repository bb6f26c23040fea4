/**
 * `ClusterStore` on Redis through ioredis (docs/scale-out.md says why ioredis). Loaded only by dynamic
 * import when the `redis` option is set. Keys and channels under one prefix; every call bounded by
 * `timeoutMs` (redis-connection.ts): on failure the caller serves from its own state.
 */
import { randomBytes } from 'node:crypto'
import type {
  ClearVerdict,
  ClusterStats,
  ClusterStatus,
  ClusterStore,
  PeerMessage,
  RegisterVerdict,
  SharedNode,
} from './cluster-store.js'
import { formatEntry, formatPeerMessage, isInstanceId, parseEntry, parsePeerMessage } from './records.js'
import { RedisConnection, type Scripts } from './redis-connection.js'

export interface RedisStoreOptions {
  readonly url: string
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly prefix: string
  /** The server's clock (entry expiry scores). */
  readonly now: () => number
}

export class RedisClusterStore implements ClusterStore {
  readonly instance = randomBytes(8).toString('hex')
  readonly #o: RedisStoreOptions
  readonly #c: RedisConnection
  #skipped = 0
  #onMessage: (msg: PeerMessage) => void = () => {}

  constructor(o: RedisStoreOptions) {
    this.#o = o
    this.#c = new RedisConnection(o)
    this.#c.sub.on('message', (_channel: string, raw: string) => {
      const msg = parsePeerMessage(raw)
      if (msg === undefined) this.#skipped++
      else this.#onMessage(msg)
    })
  }

  get status(): ClusterStatus {
    return this.#c.status
  }

  onStatus(handler: (status: ClusterStatus, why: string) => void): void {
    this.#c.onStatus(handler)
  }

  connect(signal?: AbortSignal): Promise<void> {
    return this.#c.connect([this.#channel(this.instance), this.#channel('*')], signal)
  }

  close(): Promise<void> {
    return this.#c.close()
  }

  stats(): ClusterStats {
    return {
      instance: this.instance,
      status: this.#c.status,
      reconnects: this.#c.reconnects,
      failures: this.#c.failures,
      skipped: this.#skipped,
    }
  }

  onMessage(handler: (msg: PeerMessage) => void): void {
    this.#onMessage = handler
  }

  async register(node: SharedNode, ttlMs: number, maxPerIp: number): Promise<RegisterVerdict | undefined> {
    const type = node.nodeType === 'passive' ? 'p' : 's'
    const r = await this.#c.run(() =>
      this.#c.client.pyp2pRegister(
        ...this.#keys(node),
        formatEntry(node),
        ttlMs,
        this.#o.now(),
        maxPerIp,
        node.nodeId,
        node.unproven ? 1 : 0,
        node.ip,
        type,
        this.#o.prefix,
      ),
    )
    if (r === undefined) return undefined
    const [verdict, prev] = r
    if (verdict === 'ok') return { ok: true, previous: isInstanceId(prev) ? prev : undefined }
    if (verdict === 'per-ip' || verdict === 'proof' || verdict === 'address')
      return { ok: false, reason: verdict }
    this.#skipped++
    return undefined
  }

  async republish(nodes: readonly SharedNode[], ttlMs: (n: SharedNode) => number): Promise<boolean> {
    if (nodes.length === 0) return true
    const now = this.#o.now()
    const pipe = this.#c.client.pipeline() as unknown as Scripts & { exec(): Promise<unknown> }
    for (const n of nodes) {
      const type = n.nodeType === 'passive' ? 'p' : 's'
      pipe.pyp2pPut(...this.#keys(n), formatEntry(n), ttlMs(n), now, n.nodeId, type, this.instance)
    }
    return (await this.#c.run(() => pipe.exec())) !== undefined
  }

  async unregister(nodeId: string, ipKey: string): Promise<boolean> {
    const p = this.#o.prefix
    const r = await this.#c.run(() =>
      this.#c.client.pyp2pUnregister(
        `${p}n:${nodeId}`,
        `${p}ip:${ipKey}`,
        `${p}p`,
        `${p}s`,
        this.instance,
        nodeId,
      ),
    )
    return r !== undefined
  }

  async sample(count: number, simultaneous: boolean): Promise<SharedNode[] | undefined> {
    const p = this.#o.prefix
    const raw = await this.#c.run(() =>
      this.#c.client.pyp2pSample(`${p}p`, `${p}s`, count, simultaneous ? 1 : 0, p),
    )
    return raw === undefined ? undefined : this.#entries(raw)
  }

  async lookup(nodeId: string): Promise<SharedNode | null | undefined> {
    const raw = await this.#c.run(() => this.#c.client.get(`${this.#o.prefix}n:${nodeId}`))
    if (raw === undefined) return undefined
    if (raw === null) return null
    return this.#entries([raw])[0] ?? null
  }

  async clear(
    nodeId: string,
    tokenHash: string,
    proven: boolean,
  ): Promise<{ verdict: ClearVerdict; instance?: string }> {
    const p = this.#o.prefix
    const r = await this.#c.run(() =>
      this.#c.client.pyp2pClear(`${p}n:${nodeId}`, `${p}p`, `${p}s`, tokenHash, proven ? 1 : 0, p),
    )
    if (r === undefined) return { verdict: 'unavailable' }
    const [verdict, instance] = r
    if (verdict === 'ok') return isInstanceId(instance) ? { verdict, instance } : { verdict }
    return { verdict: verdict === 'proof' ? 'proof' : 'none' }
  }

  async publish(to: string, msg: PeerMessage): Promise<boolean> {
    return (
      (await this.#c.run(() => this.#c.client.publish(this.#channel(to), formatPeerMessage(msg)))) !==
      undefined
    )
  }

  relayHere(nodeIds: readonly string[], ttlMs: number): void {
    if (nodeIds.length === 0) return
    const pipe = this.#c.client.pipeline()
    for (const id of nodeIds) pipe.set(`${this.#o.prefix}r:${id}`, this.instance, 'PX', ttlMs)
    void this.#c.run(() => pipe.exec())
  }

  async relayWhere(nodeId: string): Promise<string | undefined> {
    const raw = await this.#c.run(() => this.#c.client.get(`${this.#o.prefix}r:${nodeId}`))
    if (raw === undefined || raw === null) return undefined
    if (isInstanceId(raw)) return raw
    this.#skipped++
    return undefined
  }

  #keys(n: SharedNode): [string, string, string, string] {
    const p = this.#o.prefix
    return [`${p}n:${n.nodeId}`, `${p}ip:${n.ipKey}`, `${p}p`, `${p}s`]
  }

  #channel(to: string): string {
    return to === '*' ? `${this.#o.prefix}all` : `${this.#o.prefix}i:${to}`
  }

  /** Entries that parse; the others are counted and skipped. */
  #entries(raw: readonly unknown[]): SharedNode[] {
    const out: SharedNode[] = []
    for (const v of raw) {
      const n = parseEntry(v)
      if (n === undefined) this.#skipped++
      else out.push(n)
    }
    return out
  }
}
