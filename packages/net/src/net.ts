/**
 * `Net`: the original pyp2p facade. It keeps the node's life (start.ts: listener, node type, UNL;
 * bootstrap, advertise, the set of live connections and its limits in connection-set.ts, iteration,
 * stop) and makes no connection itself: @pyp2p/unl's connector makes and accepts every one (dials,
 * `net.unl.connect()`, hole punches, reverse connects), and @pyp2p/punch's `RendezvousSession` is our
 * place on the bootstrap server (session.ts).
 */
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import type { RendezvousSession } from '@pyp2p/punch'
import type { UNL } from '@pyp2p/unl'
import createDebug from 'debug'
import { broadcastLine, RelayedLines } from './broadcast.js'
import type { PeerInfo, Placement } from './connection-set.js'
import { admitTo, ConnectionSet, peerInfo, placeIncoming } from './connection-set.js'
import { NetError } from './errors.js'
import { bootstrapNet } from './net-bootstrap.js'
import { NetIterator } from './net-iterator.js'
import { connectByUnl, NetUnl, type UnlConnectOptions } from './net-unl.js'
import { type NetOptions, type ResolvedNetOptions, resolveNetOptions } from './options.js'
import { followNode, type RelayUpgradeEvents, withCloseCode } from './relay-upgrades.js'
import { releaseNet } from './release.js'
import { registerOn, type ServerEvents } from './session.js'
import { type NetResources, type StartReport, startNet } from './start.js'

/** Also `server:lost`, `server:restored`, `server:failover`: the bootstrap session's (session.ts). */
export interface NetEvents extends ServerEvents, RelayUpgradeEvents {
  /** A connection joined the net (inbound, bootstrap dial, or `net.unl.connect()`). */
  connection: [connection: LineSocket, info: PeerInfo]
  /** A connection left the net (closed by either side, refused as a duplicate, or at `stop()`). */
  disconnect: [connection: LineSocket, info: PeerInfo]
  /** `stop()` finished: everything is released. */
  close: []
}

type State = 'new' | 'starting' | 'started' | 'stopped'

export class Net
  extends EventEmitter<NetEvents>
  implements Iterable<LineSocket>, AsyncIterable<LineSocket>, AsyncDisposable
{
  readonly options: ResolvedNetOptions
  readonly #log: createDebug.Debugger
  readonly #closing = new AbortController()
  readonly #pendingDials = new Set<string>()
  readonly #iterator = new NetIterator()
  readonly #relayed = new RelayedLines()
  #state: State = 'new'
  #res: Partial<NetResources> | undefined
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
    return this.#report('nodeId').nodeId
  }

  /** Our key (`identity` option, or generated at `start()`: keep `identity.secret` to keep the id). */
  get identity(): NodeIdentity {
    return this.#started('identity').identity
  }

  /** Our UNL, and `net.unl.connect(theirs, { success, failure })`. */
  get unl(): NetUnl {
    this.#started('unl')
    return this.#unl!
  }

  /** What `start()` found and why (still readable after `stop()`). */
  get startReport(): StartReport {
    return this.#report('startReport')
  }

  get nodeType(): StartReport['nodeType'] {
    return this.startReport.nodeType
  }

  /** The listening port (the bound one when `passivePort` was 0). */
  get port(): number {
    return this.#started('port').listener.address.port
  }

  get isStarted(): boolean {
    return this.#state === 'started'
  }

  get isStopped(): boolean {
    return this.#state === 'stopped'
  }

  /**
   * Binds the listening socket, reaches a bootstrap server, and works out the node type (see
   * `startReport.reasons`). Throws `ERR_NO_SERVER`, `ERR_LISTEN_FAILED`, `ERR_ABORTED`, `ERR_STOPPED`,
   * `ERR_ALREADY_STARTED`. A failed start leaves the Net stopped (everything it opened is released).
   */
  async start(options: { signal?: AbortSignal } = {}): Promise<StartReport> {
    if (this.#state === 'stopped') throw NetError.STOPPED('start()')
    if (this.#state !== 'new') throw NetError.ALREADY_STARTED()
    this.#state = 'starting'
    const signal = this.#signal(options.signal)
    this.#starting = startNet(this.options, this.#log, signal, {
      adopt: (res) => {
        this.#res = res
      },
      onIncoming: (con, nodeId) => this.#add(con, nodeId, 'inbound', 'incoming'),
      // a reverse dial-back we made, or a punch to us (the connector read its hello)
      onConnector: ({ connection, nodeId, method }) =>
        this.#add(connection, nodeId, ...placeIncoming(method)),
      admit: (request) => admitTo(this.#set, request), // inside the upgrade, before the dialler's OK
    })
    try {
      await this.#starting
      const res = this.#res as NetResources
      followNode(res, this, (con) => this.#set?.info(con))
      this.#set = new ConnectionSet({
        ...this.options, // netType, maxInbound, maxOutbound, inboundLimits
        nodeId: res.nodeId,
        onEvict: (_, info) => this.#log('evicted idle inbound %s for a newcomer', info?.nodeId),
        onAdd: (con, info) => {
          this.#log('%s %s (%s) %s:%d', info.direction, info.nodeId, info.method, info.host, info.port)
          this.#iterator.push(con)
          this.emit('connection', con, info)
        },
        onRemove: (con, info) => {
          this.#log('connection %s closed', info.nodeId)
          this.#iterator.wake()
          this.emit('disconnect', con, withCloseCode(con, info))
        },
      })
      this.#unl = new NetUnl(res.unl, (theirs, o) => this.#connectUnl(theirs, o))
      this.#state = 'started'
      this.#log('started: %o', res.report.reasons)
      return res.report
    } catch (err) {
      const aborted = options.signal?.aborted === true || this.#closing.signal.aborted
      await this.stop()
      if (aborted && !(err instanceof NetError && err.code === 'ERR_ABORTED')) {
        throw NetError.ABORTED(options.signal?.reason ?? this.#closing.signal.reason)
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
    const res = this.#started('bootstrap()')
    const session = this.#session(res)
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
      this.#signal(options.signal),
    )
  }

  /**
   * Registers with the bootstrap server so others find us: passive nodes are listed by `BOOTSTRAP`,
   * simultaneous nodes answer hole-punch challenges. An active node has nothing to advertise: resolves
   * false. Throws `ERR_NOT_STARTED`, `ERR_NO_SERVER`, `ERR_ADVERTISE_FAILED`, `ERR_ABORTED`.
   */
  async advertise(options: { signal?: AbortSignal } = {}): Promise<boolean> {
    const res = this.#started('advertise()')
    const session = this.#session(res)
    const signal = this.#signal(options.signal)
    const { nodeType } = res.report
    if (nodeType === 'active') {
      this.#log('advertise: an active node is not listed (nobody can connect to it)')
      return false
    }
    // A simultaneous node's challenges are answered by the connector's puncher on this same session.
    const reg = { kind: nodeType, port: res.unl.publicPort, maxInbound: this.options.maxInbound }
    await registerOn(session, this.options.servers, reg, signal)
    return true
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
    return this.#iterator.iterate(this.connections(), this.#closing.signal)
  }

  /**
   * Waits until something happens: a line arrives on any connection, or a connection joins or leaves.
   * Resolves true then, false after `timeout` ms. For loops in the original's style:
   * `for (;;) { for (const con of net) for (const line of con) ...; await net.synchronize() }`.
   */
  synchronize(options: { signal?: AbortSignal; timeout?: number } = {}): Promise<boolean> {
    const cons = this.connections()
    if (cons.some((c) => c.queuedLines > 0)) return Promise.resolve(true)
    return this.#iterator.activity(cons, options.signal, this.#closing.signal, options.timeout)
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
      this.#closing.abort(NetError.STOPPED('stop()'))
      await this.#starting?.catch(() => undefined)
      this.#state = 'stopped'
      await releaseNet(this.#res, this.#set, this.#log)
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
      started: () => this.#started('unl.connect()').connector,
      set: () => this.#set!,
      netType: this.options.netType,
      maxOutbound: this.options.maxOutbound,
      signal: (s) => this.#signal(s),
      add: (con, nodeId, method, reason) => this.#add(con, nodeId, 'outbound', method, 'local', reason),
    })
  }

  #started(what: string): NetResources {
    if (this.#state === 'stopped') throw NetError.STOPPED(what)
    if (this.#state !== 'started' || this.#res === undefined) throw NetError.NOT_STARTED(what)
    return this.#res as NetResources
  }

  #report(what: string): StartReport {
    const report = this.#res?.report
    if (report === undefined) throw NetError.NOT_STARTED(what)
    return report
  }

  #session(res: NetResources): RendezvousSession {
    if (res.session === undefined) throw NetError.NO_SERVER([])
    return res.session
  }

  #signal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closing.signal : AbortSignal.any([signal, this.#closing.signal])
  }
}
