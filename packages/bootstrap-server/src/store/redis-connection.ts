/**
 * The two ioredis connections of a `RedisClusterStore` (one for commands, one subscribed to channels)
 * and their health: `ok`, or `degraded` while Redis is gone (ioredis reconnects with our jittered,
 * doubling back-off) or does not answer within the timeout (a PING with back-off finds out when it
 * answers again). Commands never queue while Redis is away (`enableOfflineQueue: false`).
 */

import { anySignal } from '@pyp2p/framing'
import { Redis } from 'ioredis'
import { REDIS_BACKOFF_BASE_MS, REDIS_BACKOFF_MAX_MS } from '../constants.js'
import { BootstrapServerError } from '../errors.js'
import type { ClusterStatus } from './cluster-store.js'
import { CLEAR, PUT, REGISTER, SAMPLE, UNREGISTER } from './redis-scripts.js'
import { redactRedisUrl } from './redis-url.js'

type Args = (string | number)[]
/** The Lua scripts of redis-scripts.ts as commands (EVALSHA, loaded on first use). */
export interface Scripts {
  pyp2pRegister(...a: Args): Promise<[string, string]>
  pyp2pSample(...a: Args): Promise<string[]>
  pyp2pClear(...a: Args): Promise<[string, string]>
  pyp2pUnregister(...a: Args): Promise<number>
  pyp2pPut(...a: Args): Promise<number>
}

/** Jittered doubling back-off: the n-th retry waits about BASE·2ⁿ⁻¹, capped, ±50%. */
export function backoffMs(times: number, random: () => number = Math.random): number {
  const d = Math.min(REDIS_BACKOFF_BASE_MS * 2 ** Math.max(0, times - 1), REDIS_BACKOFF_MAX_MS)
  return Math.round(d * (0.5 + random()))
}

export interface RedisConnectionOptions {
  readonly url: string
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
}

export class RedisConnection {
  readonly client: Redis & Scripts
  readonly sub: Redis
  /** The URL without its password, for logs and errors. */
  readonly safeUrl: string
  reconnects = 0
  failures = 0
  readonly #o: RedisConnectionOptions
  #status: ClusterStatus = 'degraded'
  #connected = false
  #lastError: Error | undefined
  #probeTimer: NodeJS.Timeout | undefined
  #closed = false
  #onStatus: (status: ClusterStatus, why: string) => void = () => {}

  constructor(o: RedisConnectionOptions) {
    this.#o = o
    this.safeUrl = redactRedisUrl(o.url)
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: o.timeoutMs,
      connectTimeout: o.connectTimeoutMs,
      retryStrategy: (times: number) => backoffMs(times),
    }
    this.client = new Redis(o.url, options) as Redis & Scripts
    this.sub = new Redis(o.url, { ...options, commandTimeout: o.connectTimeoutMs })
    const define = (name: string, keys: number, lua: string): void =>
      this.client.defineCommand(name, { numberOfKeys: keys, lua })
    define('pyp2pRegister', 4, REGISTER)
    define('pyp2pSample', 2, SAMPLE)
    define('pyp2pClear', 3, CLEAR)
    define('pyp2pUnregister', 4, UNREGISTER)
    define('pyp2pPut', 4, PUT)
    for (const c of [this.client, this.sub]) {
      c.on('error', (e: Error) => {
        this.#lastError = e
      })
    }
    this.client.on('ready', () => {
      if (this.#connected) this.reconnects++
      this.#connected = true
      this.#set('ok', this.reconnects > 0 ? 'reconnected' : 'connected')
    })
    this.client.on('close', () => this.#set('degraded', `connection lost${this.#why()}`))
  }

  get status(): ClusterStatus {
    return this.#status
  }

  onStatus(handler: (status: ClusterStatus, why: string) => void): void {
    this.#onStatus = handler
  }

  /** Connects both and subscribes to `channels`; throws `ERR_REDIS_UNAVAILABLE` after the timeout. */
  async connect(channels: readonly string[], signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.#o.connectTimeoutMs)
    const stop = anySignal(signal, timeout)
    let onAbort: (() => void) | undefined
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(stop.reason)
      stop.addEventListener('abort', onAbort, { once: true })
    })
    try {
      await Promise.race([
        (async () => {
          await Promise.all([this.client.connect(), this.sub.connect()])
          await this.sub.subscribe(...channels)
        })(),
        aborted,
      ])
    } catch (error) {
      this.client.disconnect()
      this.sub.disconnect()
      const cause = this.#lastError ?? error
      throw BootstrapServerError.REDIS_UNAVAILABLE(
        this.safeUrl,
        timeout.aborted ? 'no answer in time' : cause,
      )
    } finally {
      if (onAbort !== undefined) stop.removeEventListener('abort', onAbort)
    }
  }

  /** Runs one Redis call; `undefined` when it failed or timed out (then: degraded until one succeeds). */
  async run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      const v = await fn()
      if (this.#status === 'degraded' && this.client.status === 'ready') this.#set('ok', 'answering again')
      return v
    } catch (error) {
      this.failures++
      this.#lastError = error as Error
      this.#set('degraded', this.#why())
      return undefined
    }
  }

  /** Sends what is queued (the last unregistrations), then disconnects; never waits past the timeout. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#probeTimer)
    this.#onStatus = () => {}
    const quit = this.client.status === 'ready' ? this.client.quit().catch(() => undefined) : undefined
    const timer = new Promise((resolve) => setTimeout(resolve, this.#o.timeoutMs).unref())
    await Promise.race([quit, timer])
    this.client.disconnect()
    this.sub.disconnect()
  }

  #why(): string {
    return this.#lastError === undefined ? '' : `: ${this.#lastError.message}`
  }

  #set(status: ClusterStatus, why: string): void {
    if (this.#status === status) return
    this.#status = status
    if (status === 'degraded') this.#probe(1)
    this.#onStatus(status, why.replace(/^: /, ''))
  }

  /** While degraded on a live connection (Redis slow, not gone), a PING with back-off finds out when it answers. */
  #probe(attempt: number): void {
    clearTimeout(this.#probeTimer)
    this.#probeTimer = setTimeout(() => {
      if (this.#closed || this.#status === 'ok') return
      if (this.client.status !== 'ready') {
        this.#probe(attempt + 1)
        return
      }
      void this.run(() => this.client.ping()).then(() => {
        if (this.#status === 'degraded') this.#probe(attempt + 1)
      })
    }, backoffMs(attempt))
    this.#probeTimer.unref()
  }
}
