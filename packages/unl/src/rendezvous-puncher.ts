/**
 * `RendezvousPuncher`: the `Puncher` UnlConnector uses for two simultaneous nodes, on top of
 * @pyp2p/punch and a rendezvous (bootstrap) server. It detects this node's NAT once, stays registered
 * on the server as a simultaneous node under the UNL's node id (so peers can punch to it; registering
 * again with backoff when the connection drops), answers their challenges, and punches to a peer's node
 * id when `connect()` asks.
 */
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import {
  acceptChallenges,
  detectNat,
  type NatBehaviour,
  type PunchError,
  type PunchTuning,
  punch,
  RendezvousClient,
  type ServerAddress,
} from '@pyp2p/punch'
import createDebug from 'debug'
import { formatConnectHello } from './connect-hello.js'
import {
  PUNCH_MAX_INBOUND,
  PUNCH_MAX_WAITING,
  REGISTER_RETRY_MAX_MS,
  REGISTER_RETRY_MIN_MS,
} from './constants.js'
import { UnlError } from './errors.js'
import type { PunchedConnection, Puncher, PunchRequest } from './puncher.js'
import type { NatType } from './types.js'

const log = createDebug('pyp2p:unl:punch')

export interface RendezvousPuncherOptions extends Omit<PunchTuning, 'signal' | 'nat'> {
  /** The rendezvous server (a @pyp2p/bootstrap-server). */
  server: ServerAddress
  /** This node's id: the node id of its UNL (peers punch to it by that id). */
  nodeId: string
  /** This node's NAT behaviour; detected through the server when missing. */
  nat?: NatBehaviour
  /** Punches peers may start towards us at once (`SIMULTANEOUS READY`'s max-inbound). Default 1 (pyp2p). */
  maxInbound?: number
  /** Bounds NAT detection and registration. */
  signal?: AbortSignal
}

export interface RendezvousPuncherEvents {
  /** Registered with the server (at start, and again after the connection dropped). */
  registered: [info: { observed: { ip: string; port: number } }]
  /** The registration connection dropped: peers cannot punch to us until `registered` again. */
  unregistered: [info: { error?: Error }]
}

export class RendezvousPuncher extends EventEmitter<RendezvousPuncherEvents> implements Puncher {
  readonly #options: RendezvousPuncherOptions
  readonly #nat: NatBehaviour
  readonly #closing = new AbortController()
  readonly #waiting: PunchedConnection[] = []
  #deliver: ((punched: PunchedConnection) => void) | undefined
  #client: RendezvousClient | undefined
  #stopAnswering: (() => void) | undefined
  #retryDelay = REGISTER_RETRY_MIN_MS
  #retryTimer: NodeJS.Timeout | undefined

  private constructor(options: RendezvousPuncherOptions, nat: NatBehaviour) {
    super()
    this.#options = options
    this.#nat = nat
  }

  /**
   * Detects the NAT (unless given), registers with the server as a simultaneous node and starts
   * answering challenges. Rejects with @pyp2p/punch's `PunchError` (stage `detection` or
   * `coordination`) when detection or this first registration fails; later drops are retried.
   */
  static async start(options: RendezvousPuncherOptions): Promise<RendezvousPuncher> {
    const { server, nodeId, signal } = options
    const local = options.localAddress === undefined ? {} : { localAddress: options.localAddress }
    // `inbound: true` learns whether our router resets or drops unsolicited SYNs (one dial-back), so
    // the server can fire a RST-router side first: measured in bench:punch, drop->rst punches went
    // from 14-52% to 100% on the first attempt with it.
    const nat =
      options.nat ??
      (await detectNat({ server, nodeId, inbound: true, ...local, ...(signal !== undefined && { signal }) }))
    const puncher = new RendezvousPuncher(options, nat)
    await puncher.#register(signal)
    return puncher
  }

  /** One registration: connect, `SIMULTANEOUS READY`, answer challenges on it until it drops. */
  async #register(signal: AbortSignal | undefined): Promise<void> {
    const { server, nodeId } = this.#options
    const bound =
      signal === undefined ? this.#closing.signal : AbortSignal.any([signal, this.#closing.signal])
    const local = this.#options.localAddress === undefined ? {} : { localAddress: this.#options.localAddress }
    const client = await RendezvousClient.connect({ server, nodeId, ...local, signal: bound })
    try {
      const maxInbound = this.#options.maxInbound ?? PUNCH_MAX_INBOUND
      await client.registerSimultaneous(client.localPort, maxInbound, { signal: bound })
    } catch (err) {
      client.close()
      throw err
    }
    if (this.#closing.signal.aborted) {
      client.close()
      throw UnlError.CLOSED()
    }
    this.#client = client
    this.#stopAnswering = acceptChallenges({
      ...this.#tuning(),
      client,
      server,
      nat: this.#nat,
      signal: this.#closing.signal,
      onConnection: (result) => {
        log('punched from %s (%s)', result.peer.nodeId, result.method)
        const punched = { connection: result.connection, nodeId: result.peer.nodeId }
        if (this.#deliver !== undefined) this.#deliver(punched)
        else if (this.#waiting.length < PUNCH_MAX_WAITING) this.#waiting.push(punched)
        else result.connection.close() // nobody listens, and enough are waiting already
      },
      onError: (err: PunchError, challenge) => {
        log('punch from %s failed: %s (%s)', challenge.nodeId, err.code, err.message)
      },
    })
    client.once('close', (info) => this.#onDrop(client, info.error))
    if (!client.isOpen) this.#onDrop(client, undefined) // closed while we were registering
    this.#retryDelay = REGISTER_RETRY_MIN_MS
    log('registered %s as simultaneous; NAT %s', nodeId, this.#nat.type)
    this.emit('registered', { observed: { ...client.observed } })
  }

  #onDrop(client: RendezvousClient, error: Error | undefined): void {
    if (this.#client !== client) return
    this.#stopAnswering?.()
    this.#stopAnswering = undefined
    this.#client = undefined
    if (this.#closing.signal.aborted) return
    log('rendezvous connection dropped (%s): registering again', error?.message ?? 'closed')
    this.emit('unregistered', error === undefined ? {} : { error })
    this.#retry()
  }

  // Backoff doubling from REGISTER_RETRY_MIN_MS to REGISTER_RETRY_MAX_MS, as the relay client does.
  #retry(): void {
    const delay = this.#retryDelay
    this.#retryDelay = Math.min(delay * 2, REGISTER_RETRY_MAX_MS)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#register(undefined).catch((err: unknown) => {
        if (this.#closing.signal.aborted) return
        log('registering again failed: %s', (err as Error).message)
        this.#retry()
      })
    }, delay)
  }

  /** What detection found (or what was given). */
  get nat(): NatBehaviour {
    return this.#nat
  }

  /** The NAT type to put in this node's UNL. */
  get natType(): NatType {
    return this.#nat.type
  }

  /** Whether the registration with the server is open now (peers can punch to us). */
  get isRegistered(): boolean {
    return this.#client?.isOpen === true && !this.#closing.signal.aborted
  }

  /**
   * Candidate side: a punched connection to `theirs`, its first line our connect hello (the peer's
   * connector reads it). Rejects with @pyp2p/punch's `PunchError`.
   */
  async punch(request: PunchRequest): Promise<LineSocket> {
    if (this.#closing.signal.aborted) throw UnlError.CLOSED()
    const result = await punch({
      ...this.#tuning(),
      server: this.#options.server,
      nodeId: this.#options.nodeId,
      target: request.theirs.nodeId,
      nat: this.#nat,
      signal: AbortSignal.any([request.signal, this.#closing.signal]),
    })
    log('punched to %s (%s, %d attempts)', request.theirs.nodeId, result.method, result.attempts)
    result.connection.sendLine(formatConnectHello(request.nonce, request.ours.nodeId))
    return result.connection
  }

  /** Target side: connections peers punched to us go to `onConnection` (UnlConnector calls this). */
  listen(onConnection: (punched: PunchedConnection) => void, signal: AbortSignal): void {
    const stop = (): void => {
      if (this.#deliver === onConnection) this.#deliver = undefined
    }
    if (signal.aborted) return
    this.#deliver = onConnection
    signal.addEventListener('abort', stop, { once: true })
    for (const punched of this.#waiting.splice(0)) onConnection(punched)
  }

  /** Leaves the server, stops answering challenges (and aborts punches in progress). Idempotent. */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort(UnlError.CLOSED())
    clearTimeout(this.#retryTimer)
    this.#stopAnswering?.()
    this.#client?.close()
    for (const { connection } of this.#waiting.splice(0)) connection.close()
  }

  #tuning(): PunchTuning {
    const { server: _s, nodeId: _n, nat: _t, maxInbound: _m, signal: _g, ...tuning } = this.#options
    return tuning
  }
}
