/**
 * `RendezvousPuncher`: the `Puncher` UnlConnector uses for two simultaneous nodes, on top of
 * @pyp2p/punch and a rendezvous (bootstrap) server, and the one answerer of that server's challenges.
 * It works on a @pyp2p/punch `RendezvousSession`: its own (`start()`: registered as a simultaneous
 * node under the UNL's node id, registered again by the session with back-off when the connection
 * drops) or one the caller registers (`onSession()`: what `Net` does; one registration per node id on a
 * server, a second would replace the first). It answers challenges on every connection of the session,
 * and punches to a peer's node id when `connect()` asks. Connections go out and come in raw: the
 * connector's upgrade step says and reads the hello on both sides.
 */
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
import {
  detectNat,
  type NatBehaviour,
  PunchError,
  type PunchTuning,
  punch,
  type RendezvousClient,
  RendezvousSession,
  type ServerAddress,
} from '@pyp2p/punch'
import createDebug from 'debug'
import { ChallengeAnswerer } from './challenge-answerer.js'
import {
  PUNCH_MAX_INBOUND,
  PUNCH_MAX_WAITING,
  REGISTER_RETRY_MAX_MS,
  REGISTER_RETRY_MIN_MS,
} from './constants.js'
import { UnlError } from './errors.js'
import type { PunchLimits } from './punch-guard.js'
import type { PunchedConnection, Puncher, PunchRequest } from './puncher.js'
import type { NatType } from './types.js'

const log = createDebug('pyp2p:unl:punch')

/** Tuning of the punches themselves (@pyp2p/punch's `PunchTuning`, without what the puncher sets). */
export type RendezvousPunchTuning = Omit<PunchTuning, 'signal' | 'nat'>

export interface RendezvousPuncherOptions extends RendezvousPunchTuning {
  /** The rendezvous server (a @pyp2p/bootstrap-server). */
  server: ServerAddress
  /** This node's id: the node id of its UNL (peers punch to it by that id). */
  nodeId: string
  /** This node's NAT behaviour; detected through the server when missing. */
  nat?: NatBehaviour
  /** Limits on the punches other nodes make us take part in (punch-guard.ts); defaults there. */
  limits?: PunchLimits
  /** Punches peers may start towards us at once (`SIMULTANEOUS READY`'s max-inbound). Default 1 (pyp2p). */
  maxInbound?: number
  /** Bounds NAT detection and registration. */
  signal?: AbortSignal
}

export interface SessionPuncherOptions extends RendezvousPunchTuning {
  /** This node's NAT behaviour; detected once (with the inbound probe) at the first punch when missing. */
  nat?: NatBehaviour
  /** Limits on the punches other nodes make us take part in (punch-guard.ts); defaults there. */
  limits?: PunchLimits
}

export interface RendezvousPuncherEvents {
  /** Registered with the server (at start, and again after the connection dropped). */
  registered: [info: { observed: { ip: string; port: number } }]
  /** The registration connection dropped: peers cannot punch to us until `registered` again. */
  unregistered: [info: { error?: Error }]
  /** A challenge declined by a punch limit (`ERR_PUNCH_LIMITED`); the server was told `REJECT`. */
  refused: [info: { nodeId: string; punchId: string; error: UnlError }]
}

export class RendezvousPuncher extends EventEmitter<RendezvousPuncherEvents> implements Puncher {
  readonly #session: RendezvousSession
  readonly #ownsSession: boolean
  readonly #tuning: RendezvousPunchTuning
  readonly #closing = new AbortController()
  readonly #waiting: PunchedConnection[] = []
  readonly #stops = new Set<() => void>()
  readonly #answerer: ChallengeAnswerer
  #nat: NatBehaviour | undefined
  #detecting: Promise<NatBehaviour> | undefined
  #deliver: ((punched: PunchedConnection) => void) | undefined

  private constructor(session: RendezvousSession, owns: boolean, o: SessionPuncherOptions) {
    super()
    const { nat, limits, ...tuning } = o
    this.#session = session
    this.#ownsSession = owns
    this.#nat = nat
    this.#tuning = tuning
    this.#answerer = new ChallengeAnswerer({
      tuning,
      limits,
      nat: () => this.#nat,
      signal: this.#closing.signal,
      onConnection: (punched) => {
        if (this.#deliver !== undefined) this.#deliver(punched)
        else if (this.#waiting.length < PUNCH_MAX_WAITING) this.#waiting.push(punched)
        else punched.connection.close() // nobody listens, and enough are waiting already
      },
      onRefused: (info) => this.emit('refused', info),
    })
    session.on('client', this.#answer)
    session.on('registered', this.#onRegistered)
    session.on('unregistered', this.#onUnregistered)
    const current = session.client
    if (current !== undefined) this.#answer(current)
  }

  /**
   * Detects the NAT (unless given; with the inbound probe: measured in bench:punch, drop->rst punches
   * went from 14-52% to 100% on the first attempt with it), registers with the server as a
   * simultaneous node on a session of its own and starts answering challenges. Rejects with
   * @pyp2p/punch's `PunchError` (stage `detection` or `coordination`) when detection or this first
   * registration fails; later drops are retried by the session.
   */
  static async start(options: RendezvousPuncherOptions): Promise<RendezvousPuncher> {
    const { server, nodeId, signal, maxInbound = PUNCH_MAX_INBOUND, nat: given, ...tuning } = options
    const local = options.localAddress === undefined ? {} : { localAddress: options.localAddress }
    const bound = signal === undefined ? {} : { signal }
    // With an identity the session and the detection sign their commands (a default server requires it).
    const proof = tuning.identity === undefined ? {} : { identity: tuning.identity }
    const nat = given ?? (await detectNat({ server, nodeId, inbound: true, ...local, ...bound, ...proof }))
    const session = new RendezvousSession({
      servers: [server],
      nodeId,
      ...local,
      ...proof,
      retryMinMs: REGISTER_RETRY_MIN_MS,
      retryMaxMs: REGISTER_RETRY_MAX_MS,
    })
    const puncher = new RendezvousPuncher(session, true, { ...tuning, nat })
    try {
      const client = await session.open(bound)
      await session.register('simultaneous', client.localPort, maxInbound, bound)
    } catch (err) {
      puncher.close()
      throw err
    }
    log('registered %s as simultaneous; NAT %s', nodeId, nat.type)
    return puncher
  }

  /**
   * A puncher on a session the caller opens and registers (`Net` registers passive or simultaneous
   * from `advertise()`): it answers challenges on that session's connections and punches through its
   * server. `close()` leaves the session to its owner.
   */
  static onSession(session: RendezvousSession, options: SessionPuncherOptions = {}): RendezvousPuncher {
    return new RendezvousPuncher(session, false, options)
  }

  /** What detection found (or what was given); undefined until known. */
  get nat(): NatBehaviour | undefined {
    return this.#nat
  }

  /** The NAT type to put in this node's UNL. */
  get natType(): NatType {
    return this.#nat?.type ?? 'unknown'
  }

  /** Whether the registration with the server is open now (peers can punch to us). */
  get isRegistered(): boolean {
    return this.#session.isRegistered && !this.#closing.signal.aborted
  }

  /**
   * Candidate side: a punched connection to `theirs`, raw (the connector says hello on it). Rejects
   * with @pyp2p/punch's `PunchError`, or `ERR_CLOSED`.
   */
  async punch(request: PunchRequest): Promise<LineSocket> {
    if (this.#closing.signal.aborted) throw UnlError.CLOSED()
    if (this.#session.server === undefined) await this.#session.open({ signal: request.signal })
    const server = this.#session.server!
    const signal = anySignal(request.signal, this.#closing.signal)
    const nat = await this.#ownNat(server, signal)
    const result = await punch({
      ...this.#tuning,
      server,
      nodeId: this.#session.nodeId,
      target: request.theirs.nodeId,
      nat,
      signal,
    })
    log('punched to %s (%s, %d attempts)', request.theirs.nodeId, result.method, result.attempts)
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

  /**
   * Stops answering challenges, aborts punches in progress and, on its own session (`start()`), closes
   * it (the server forgets the registration with its connection). Idempotent.
   */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort(UnlError.CLOSED())
    this.#session.off('client', this.#answer)
    this.#session.off('registered', this.#onRegistered)
    this.#session.off('unregistered', this.#onUnregistered)
    for (const stop of this.#stops) stop()
    this.#stops.clear()
    if (this.#ownsSession) this.#session.close()
    for (const { connection } of this.#waiting.splice(0)) connection.close()
  }

  /** Our NAT: given, or detected once (with the inbound probe, as `start()` does). */
  async #ownNat(server: ServerAddress, signal: AbortSignal): Promise<NatBehaviour> {
    if (this.#nat !== undefined) return this.#nat
    const local = this.#tuning.localAddress === undefined ? {} : { localAddress: this.#tuning.localAddress }
    if (this.#detecting === undefined) {
      const nodeId = this.#session.nodeId
      const { identity } = this.#tuning
      const proof = identity === undefined ? {} : { identity }
      this.#detecting = detectNat({ server, nodeId, inbound: true, ...local, ...proof }).finally(() => {
        this.#detecting = undefined
      })
      this.#detecting.catch(() => undefined) // callers may all have stopped waiting
    }
    const nat = await abortable(this.#detecting, signal)
    this.#nat = nat
    return nat
  }

  /** Answers the challenges arriving on one connection of the session, until it closes. */
  #answer = (client: RendezvousClient): void => {
    const server = this.#session.server
    if (server === undefined || this.#closing.signal.aborted) return
    const stop = this.#answerer.answer(client, server)
    this.#stops.add(stop)
    client.once('close', () => {
      stop()
      this.#stops.delete(stop)
    })
  }

  #onRegistered = (info: { observed: { ip: string; port: number } }): void => {
    this.emit('registered', { observed: info.observed })
  }

  #onUnregistered = (info: { error?: Error }): void => {
    if (!this.#closing.signal.aborted) this.emit('unregistered', info)
  }
}

/** `p`, or the signal's reason as soon as it fires (`p` goes on for the next caller). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = (): PunchError => PunchError.ABORTED('detection', signal.reason)
  if (signal.aborted) return Promise.reject(aborted())
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted())
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
