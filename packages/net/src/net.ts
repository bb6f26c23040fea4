/**
 * `Net`: the original pyp2p facade. It keeps the node's life (net-life.ts; start.ts: listener, node
 * type, UNL; bootstrap, advertise, the set of live connections and its limits in connection-set.ts
 * with its events in net-wiring.ts, iteration, stop) and makes no connection itself: @pyp2p/unl's connector makes and accepts every one (dials,
 * `net.unl.connect()`, hole punches, reverse connects), and @pyp2p/punch's `RendezvousSession` is our
 * place on the bootstrap server (session.ts).
 */
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import type { CircuitRelay } from '@pyp2p/relay'
import type { UNL } from '@pyp2p/unl'
import createDebug from 'debug'
import { broadcastLine, RelayedLines } from './broadcast.js'
import type { PeerInfo, Placement } from './connection-set.js'
import { admitTo, type ConnectionSet, peerInfo, placeIncoming } from './connection-set.js'
import { NetError } from './errors.js'
import { advertiseNet, bootstrapNet } from './net-bootstrap.js'
import { NetIterator } from './net-iterator.js'
import { NetLife } from './net-life.js'
import { connectByUnl, NetUnl, type UnlConnectOptions } from './net-unl.js'
import { type NetEvents, wireConnections } from './net-wiring.js'
import { type NetOptions, type ResolvedNetOptions, resolveNetOptions } from './options.js'
import { releaseNet } from './release.js'
import { type NetResources, type StartReport, startNet } from './start.js'

export type { NetEvents } from './net-wiring.js'

export class Net
  extends EventEmitter<NetEvents>
  implements Iterable<LineSocket>, AsyncIterable<LineSocket>, AsyncDisposable
{
  readonly options: ResolvedNetOptions
  readonly #log: createDebug.Debugger
  readonly #life = new NetLife()
  readonly #pendingDials = new Set<string>()
  readonly #iterator = new NetIterator()
  readonly #relayed = new RelayedLines()
  #set: ConnectionSet | undefined
  #unl: NetUnl | undefined
  #starting: Promise<StartReport> | undefined
  #stopping: Promise<void> | undefined

  constructor(options: NetOptions = {}) {
    super()
    this.options = resolveNetOptions(options)
    this.#log = createDebug('pyp2p:net')
    if (this.options.debug) this.#log.enabled = true
  }

  /** Our node id (40 hex characters), known after `start()` (and still after `stop()`). */
  get nodeId(): string {
    return this.#life.report('nodeId').nodeId
  }

  /** Our key (`identity` option, or generated at `start()`: keep `identity.secret` to keep the id). */
  get identity(): NodeIdentity {
    return this.#life.started('identity').identity
  }

  /** Our UNL, and `net.unl.connect(theirs, { success, failure })`. */
  get unl(): NetUnl {
    this.#life.started('unl')
    return this.#unl!
  }

  /** What `start()` found and why (still readable after `stop()`). */
  get startReport(): StartReport {
    return this.#life.report('startReport')
  }

  get nodeType(): StartReport['nodeType'] {
    return this.startReport.nodeType
  }

  /** The listening port (the bound one when `passivePort` was 0). */
  get port(): number {
    return this.#life.started('port').listener.address.port
  }

  /**
   * The circuit relay this node serves for others (`circuitRelay.serve`: a passive node), e.g. for its
   * `stats` (reservations, circuits pending and open, ended and refused by reason); undefined when it
   * serves none. Readable after `start()` and, closed with its final stats, after `stop()`.
   */
  get circuitRelay(): CircuitRelay | undefined {
    this.#life.report('circuitRelay')
    return this.#life.res?.relaying?.served?.relay
  }

  get isStarted(): boolean {
    return this.#life.state === 'started'
  }

  get isStopped(): boolean {
    return this.#life.state === 'stopped'
  }

  /**
   * Binds the listening socket, reaches a bootstrap server, and works out the node type (see
   * `startReport.reasons`). Throws `ERR_NO_SERVER`, `ERR_LISTEN_FAILED`, `ERR_ABORTED`, `ERR_STOPPED`,
   * `ERR_ALREADY_STARTED`. A failed start leaves the Net stopped (everything it opened is released).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<StartReport> {
    if (this.#life.state === 'stopped') throw NetError.STOPPED('start()')
    if (this.#life.state !== 'new') throw NetError.ALREADY_STARTED()
    this.#life.state = 'starting'
    const signal = this.#life.signal(options.signal)
    this.#starting = startNet(this.options, this.#log, signal, {
      adopt: (res) => {
        this.#life.res = res
      },
      onIncoming: (con, nodeId) => this.#add(con, nodeId, 'inbound', 'incoming'),
      // a reverse dial-back we made, or a punch to us (the connector read its hello)
      onConnector: ({ connection, nodeId, method }) =>
        this.#add(connection, nodeId, ...placeIncoming(method)),
      admit: (request) => admitTo(this.#set, request), // inside the upgrade, before the dialler's OK
      onRelayMoved: (info) => {
        this.#log('relay reservation moved to %s: our UNL is now %s', info.to, info.unl)
        this.emit('relay:moved', info)
      },
    })
    try {
      await this.#starting
      const res = this.#life.res as NetResources
      this.#set = wireConnections(res, this.options, this, this.#iterator, this.#log)
      this.#unl = new NetUnl(
        () => res.unl,
        (theirs, o) => this.#connectUnl(theirs, o),
      )
      this.#life.state = 'started'
      this.#log('started: %o', res.report.reasons)
      return res.report
    } catch (err) {
      const aborted = options.signal?.aborted === true || this.#life.closing.signal.aborted
      await this.stop()
      if (aborted && !(err instanceof NetError && err.code === 'ERR_ABORTED')) {
        throw NetError.ABORTED(options.signal?.reason ?? this.#life.closing.signal.reason)
      }
      throw err
    }
  }

  /**
   * Connects to nodes the server lists, up to `maxOutbound` (in a `p2p` net never to ourselves or twice
   * to one node, and a simultaneous node punches to the simultaneous ones). Resolves with the connections
   * made; unreachable nodes are skipped (logged). Throws `ERR_NOT_STARTED`, `ERR_NO_SERVER`, `ERR_ABORTED`.
   */
  async bootstrap(options: { signal?: AbortSignal } = {}): Promise<PeerInfo[]> {
    const res = this.#life.started('bootstrap()')
    const session = this.#life.session(res)
    const { externalPort } = res.report
    return bootstrapNet(
      {
        options: this.options,
        session,
        connector: res.connector,
        set: this.#set!,
        nodeId: res.nodeId,
        ports: [this.port, ...(externalPort === undefined ? [] : [externalPort])],
        pending: this.#pendingDials,
        log: this.#log,
        add: (con, nodeId, method, reason) => this.#add(con, nodeId, 'outbound', method, 'local', reason),
      },
      this.#life.signal(options.signal),
    )
  }

  /**
   * Registers with the bootstrap server so others find us: passive nodes are listed by `BOOTSTRAP`,
   * simultaneous nodes answer hole-punch challenges. An active node has nothing to advertise: resolves
   * false. Throws `ERR_NOT_STARTED`, `ERR_NO_SERVER`, `ERR_ADVERTISE_FAILED`, `ERR_ABORTED`.
   */
  async advertise(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const res = this.#life.started('advertise()')
    const session = this.#life.session(res)
    return advertiseNet(res, session, this.options, this.#log, this.#life.signal(options.signal))
  }

  /** The live connections (the original's `for con in net`). */
  connections(): LineSocket[] {
    return this.#set?.live() ?? []
  }

  /** Who is at the other end of a connection of this net, and how it was made. */
  info(connection: LineSocket): PeerInfo | undefined {
    return this.#set?.info(connection)
  }

  /** Yields the live connections and returns (never waits): `for (const con of net)`. */
  [Symbol.iterator](): Iterator<LineSocket> {
    return this.connections()[Symbol.iterator]()
  }

  /** Yields every live connection, then each new one as it joins; ends at `stop()`. */
  [Symbol.asyncIterator](): AsyncIterator<LineSocket> {
    return this.#iterator.iterate(this.connections(), this.#life.closing.signal)
  }

  /**
   * Waits until something happens: a line arrives on any connection, or a connection joins or leaves.
   * Resolves true then, false after `timeout` ms. For loops in the original's style:
   * `for (;;) { for (const con of net) for (const line of con) ...; await net.synchronize() }`.
   */
  synchronize(options: { signal?: AbortSignal; timeout?: number } = {}): Promise<boolean> {
    const cons = this.connections()
    if (cons.some((c) => c.queuedLines > 0)) return Promise.resolve(true)
    return this.#iterator.activity(cons, options.signal, this.#life.closing.signal, options.timeout)
  }

  /** Sends `line` on every connection but `source`; returns how many: 0 for a repeat (broadcast.ts). */
  broadcast(line: string, source?: LineSocket): number {
    if (!this.#relayed.remember(line)) return 0
    return broadcastLine(this.connections(), line, source, this.#log)
  }
  /** Whether `broadcast()` sent or relayed `line` already (flooding: relay only what is not `seen`). */
  readonly seen = (line: string): boolean => this.#relayed.has(line)

  /**
   * Closes the listener and every connection, leaves the bootstrap server (`CLEAR`), removes port
   * mappings and closes the relay connection it opened. Idempotent; never rejects; safe from signal
   * handlers. Emits `close` when done.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#life.closing.abort(NetError.STOPPED('stop()'))
      await this.#starting?.catch(() => undefined)
      this.#life.state = 'stopped'
      await releaseNet(this.#life.res, this.#set, this.#log)
      this.#iterator.end()
      this.#log('stopped')
      this.emit('close')
    })()
    return this.#stopping
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }

  #add(con: LineSocket, nodeId: string, ...how: Placement) {
    const info = peerInfo(con, nodeId, ...how)
    if (this.#set === undefined) con.close() // not started (yet): nothing to join
    const refused = this.#set === undefined ? 'closed' : this.#set.add(con, info)
    if (refused === undefined) return info
    this.#log('%s connection %s refused: %s', info.direction, nodeId, refused)
    return undefined
  }

  #connectUnl(theirs: UNL | string, options: UnlConnectOptions): Promise<LineSocket> {
    return connectByUnl(theirs, options, {
      started: () => this.#life.started('unl.connect()').connector,
      set: () => this.#set!,
      netType: this.options.netType,
      maxOutbound: this.options.maxOutbound,
      signal: (s) => this.#life.signal(s),
      add: (con, nodeId, method, reason) => this.#add(con, nodeId, 'outbound', method, 'local', reason),
    })
  }
}
