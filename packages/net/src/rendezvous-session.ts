/**
 * Our connection to a bootstrap (rendezvous) server: tried in the order of `servers`, kept open with a
 * PING so the server's idle timeout does not close it, reopened (and our registration repeated) when
 * it dropped, and left cleanly with `CLEAR <node-id> <clear-token>` + `QUIT` so the server forgets us.
 */
import { randomBytes } from 'node:crypto'
import { RendezvousClient } from '@pyp2p/punch'
import type createDebug from 'debug'
import {
  CLEAR_TOKEN_BYTES,
  RENDEZVOUS_KEEPALIVE_MS,
  SERVER_CONNECT_TIMEOUT_MS,
  SERVER_REPLY_TIMEOUT_MS,
  STOP_SERVER_TIMEOUT_MS,
} from './constants.js'
import { NetError } from './errors.js'
import type { ServerAddress } from './options.js'

/** A node from `BOOTSTRAP` (the rendezvous protocol's NODES entry). */
export type NodeEntry = Awaited<ReturnType<RendezvousClient['bootstrap']>>[number]

interface Registration {
  kind: 'passive' | 'simultaneous'
  port: number
  maxInbound: number
}

export class RendezvousSession {
  readonly #servers: Required<ServerAddress>[]
  readonly #nodeId: string
  readonly #log: createDebug.Debugger
  #client: RendezvousClient | undefined
  #server: Required<ServerAddress> | undefined
  #registration: Registration | undefined
  #keepAlive: NodeJS.Timeout | undefined
  #pings = 0
  #onClient: ((client: RendezvousClient) => void) | undefined
  /** Our secret for `CLEAR <node-id> <clear-token>`, sent with every registration. */
  readonly #clearToken = randomBytes(CLEAR_TOKEN_BYTES).toString('base64url')

  constructor(servers: Required<ServerAddress>[], nodeId: string, log: createDebug.Debugger) {
    this.#servers = servers
    this.#nodeId = nodeId
    this.#log = log
  }

  /** The server we talk to (after `open()`). */
  get server(): Required<ServerAddress> | undefined {
    return this.#server
  }

  /** The address and port the server saw our connection come from. */
  get observed(): { ip: string; port: number } | undefined {
    return this.#client?.observed
  }

  /** The local address of our connection to the server (the interface that reaches it). */
  get localAddress(): string | undefined {
    return this.#client?.connection.localAddress
  }

  /** Called with every new connection (e.g. to answer hole-punch challenges on it). */
  onClient(fn: (client: RendezvousClient) => void): void {
    this.#onClient = fn
    if (this.#client?.isOpen) fn(this.#client)
  }

  /** Connects to the first server that answers; throws `ERR_NO_SERVER` listing what was tried. */
  async open(signal: AbortSignal): Promise<RendezvousClient> {
    if (this.#client?.isOpen) return this.#client
    const tried: string[] = []
    let last: unknown
    for (const server of this.#server === undefined ? this.#servers : [this.#server, ...this.#servers]) {
      signal.throwIfAborted()
      tried.push(`${server.host}:${server.port}`)
      try {
        const client = await RendezvousClient.connect({
          server,
          nodeId: this.#nodeId,
          timeout: SERVER_CONNECT_TIMEOUT_MS,
          signal,
        })
        this.#adopt(client, server)
        if (this.#registration !== undefined) await this.#register(client, this.#registration, signal)
        return client
      } catch (err) {
        if (signal.aborted) throw NetError.ABORTED(signal.reason)
        this.#log('bootstrap server %s:%d: %s', server.host, server.port, (err as Error).message)
        last = err
      }
    }
    throw NetError.NO_SERVER([...new Set(tried)], last)
  }

  /** `BOOTSTRAP n`: up to n passive nodes the server knows. */
  async bootstrap(count: number, signal: AbortSignal): Promise<readonly NodeEntry[]> {
    const client = await this.open(signal)
    return client.bootstrap(Math.max(1, Math.min(100, count)), { signal, timeout: SERVER_REPLY_TIMEOUT_MS })
  }

  /** `PASSIVE READY` / `SIMULTANEOUS READY`; repeated by itself after a reconnect. */
  async register(
    kind: Registration['kind'],
    port: number,
    maxInbound: number,
    signal: AbortSignal,
  ): Promise<void> {
    const client = await this.open(signal)
    const reg = { kind, port, maxInbound }
    try {
      await this.#register(client, reg, signal)
    } catch (err) {
      if (signal.aborted) throw NetError.ABORTED(signal.reason)
      throw NetError.ADVERTISE_FAILED(err)
    }
    this.#registration = reg
  }

  /**
   * Leaves the server: `CLEAR <node-id> <clear-token>` (it forgets our registration, whichever
   * connection made it) then `QUIT`, bounded. When our connection had dropped, the CLEAR goes on a new
   * one; the token makes that work without registering again.
   */
  async leave(): Promise<void> {
    this.#stopKeepAlive()
    const signal = AbortSignal.timeout(STOP_SERVER_TIMEOUT_MS)
    const registered = this.#registration !== undefined
    this.#registration = undefined
    try {
      if (registered) {
        try {
          await this.#clear(signal)
        } catch (err) {
          // A server verdict (e.g. ERR_NO_SUCH_NODE: the registration had expired) is final. Otherwise
          // the connection closed under us (the server's idle timeout races us): once more, on a new one.
          if ((err as { serverCode?: unknown }).serverCode !== undefined) throw err
          this.#log('CLEAR failed (%s): clearing on a new connection', (err as Error).message)
          this.#client?.close()
          await this.#clear(signal)
        }
      }
      await this.#client?.quit({ timeout: STOP_SERVER_TIMEOUT_MS })
    } catch (err) {
      this.#log('leaving the bootstrap server: %s', (err as Error).message)
    } finally {
      this.close()
    }
  }

  async #clear(signal: AbortSignal): Promise<void> {
    const client = await this.open(signal)
    const clear = { type: 'CLEAR', nodeId: this.#nodeId, clearToken: this.#clearToken } as const
    await client.request(clear, { signal, timeout: STOP_SERVER_TIMEOUT_MS })
  }

  /** Closes the connection at once (idempotent). */
  close(): void {
    this.#stopKeepAlive()
    this.#client?.close()
  }

  async #register(client: RendezvousClient, reg: Registration, signal: AbortSignal): Promise<void> {
    await client.request(
      {
        type: 'READY',
        nodeType: reg.kind,
        port: reg.port,
        maxInbound: reg.maxInbound,
        nodeId: this.#nodeId,
        clearToken: this.#clearToken,
      },
      { signal, timeout: SERVER_REPLY_TIMEOUT_MS },
    )
  }

  #adopt(client: RendezvousClient, server: Required<ServerAddress>): void {
    this.#client?.close()
    this.#client = client
    this.#server = server
    this.#log(
      'bootstrap server %s:%d sees us at %s:%d',
      server.host,
      server.port,
      client.observed.ip,
      client.observed.port,
    )
    this.#stopKeepAlive()
    this.#keepAlive = setInterval(() => {
      if (!client.isOpen) return this.#stopKeepAlive()
      client.request({ type: 'PING', token: `k${++this.#pings}` }).catch((err: unknown) => {
        this.#log('keep-alive PING: %s', (err as Error).message)
      })
    }, RENDEZVOUS_KEEPALIVE_MS)
    this.#keepAlive.unref()
    this.#onClient?.(client)
  }

  #stopKeepAlive(): void {
    clearInterval(this.#keepAlive)
    this.#keepAlive = undefined
  }
}
