/**
 * `UnlConnector`: gets a TCP connection to the node a UNL describes, by the best method (same LAN,
 * direct, reverse connect through a message transport, hole punch through an injected Puncher), dials
 * nodes a bootstrap server listed (`dialNode`), serves accepted and punched-to-us connections, and
 * answers other nodes' reverse-connect requests. Every connection it makes or accepts passes through
 * upgrade.ts (the secure handshake, then the hello) before anyone sees it.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Server, Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { MessageTransport } from '@pyp2p/dht-msg'
import { anySignal, connectSocket, type LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import { acceptIncoming, type PendingReverse } from './accept-incoming.js'
import { type PlannedMethod, planConnect } from './connect-plan.js'
import { runPlan } from './connect-run.js'
import type {
  ConnectOptions,
  ConnectResult,
  DialNodeOptions,
  IncomingConnection,
  ListedNode,
  UnlConnectorEvents,
  UnlConnectorOptions,
} from './connector-options.js'
import { type ConnectorSettings, checkIdentity, connectorSettings } from './connector-settings.js'
import { CONNECT_TIMEOUT_MS, NONCE_BYTES } from './constants.js'
import { type ConnectMethod, UnlError } from './errors.js'
import type { Puncher } from './puncher.js'
import { RelaySide } from './relay-side.js'
import { ReverseSide } from './reverse-side.js'
import { isMaster, isSameNode, UNL } from './unl.js'
import { upgradeOutbound } from './upgrade.js'

const log = createDebug('pyp2p:unl')
const newNonce = (): string => randomBytes(NONCE_BYTES).toString('hex')

export class UnlConnector extends EventEmitter<UnlConnectorEvents> {
  #unl: UNL
  readonly #transport: MessageTransport | undefined
  readonly #puncher: Puncher | undefined
  readonly #relay: RelaySide
  readonly #reverse: ReverseSide
  readonly #s: ConnectorSettings
  readonly #pending = new Map<string, PendingReverse>()
  readonly #closing = new AbortController()
  readonly #servers = new Map<Server, (socket: Socket) => void>()
  readonly #admit: UnlConnectorOptions['admit']

  constructor(options: UnlConnectorOptions) {
    super()
    this.#transport = options.transport
    this.#s = connectorSettings(options)
    this.#unl = this.#checkUnl(options.unl)
    this.#puncher = options.puncher
    const hooks = { ours: () => this.#unl, attempt: this.#attempt.bind(this), emit: this.emit.bind(this) }
    this.#relay = new RelaySide(options, this.#closing.signal, { ...hooks, pending: this.#pending })
    this.#admit = options.admit
    this.#reverse = new ReverseSide(options, this.#s, this.#closing.signal, {
      ours: hooks.ours,
      pending: this.#pending,
      dial: this.#dial.bind(this),
      deliver: (incoming) => this.#deliver(incoming),
      refused: (info) => this.emit('refused', info),
    })
    this.#puncher?.listen?.(
      ({ connection, nodeId }) => this.#serve(connection, 'punch', nodeId),
      this.#closing.signal,
    )
    this.#relay.listen((socket, id, relay) => this.#serve(socket, 'relay', id, relay), this.#closing.signal)
  }

  /** This node's UNL. */
  get unl(): UNL {
    return this.#unl
  }

  /** Replace this node's UNL (e.g. once the WAN address or a port mapping is known). */
  setUnl(unl: UNL): void {
    this.#unl = this.#checkUnl(unl)
  }

  /**
   * A connection to the node `theirs` describes (the original's `unl.connect`). Rejects with UnlError:
   * ERR_CONNECT_SELF, ERR_NO_METHOD, ERR_CONNECT_FAILED or ERR_CONNECT_TIMEOUT (each listing every
   * method and why it failed), ERR_ABORTED, ERR_CLOSED, or ERR_INVALID_UNL for a bad UNL text.
   */
  connect(theirs: UNL | string, options: ConnectOptions = {}): Promise<LineSocket> {
    const connection = this.connectWithReport(theirs, options).then((r) => r.connection)
    // With `events` the failure goes to the callback; the promise may be left unobserved.
    if (options.events !== undefined) connection.catch(() => {})
    return connection
  }

  /** `connect()`, resolving with the method used, the duration and every attempt. */
  connectWithReport(theirs: UNL | string, options: ConnectOptions = {}): Promise<ConnectResult> {
    const run = this.#connect(theirs, options)
    const { events } = options
    if (events === undefined) return run
    run.then(
      (result) => events.success?.(result.connection, result),
      (err: unknown) => events.failure?.(err as UnlError),
    )
    return run
  }

  /**
   * Serve a connection accepted on our listening port (or punched to us: `method` labels it, default
   * `direct`; its key must prove `expectedNodeId` when given) through the inbound upgrade (upgrade.ts),
   * raw socket in (a plain connector also takes a LineSocket). An answer to one of our reverse requests
   * completes that `connect()` (resolves undefined); else resolves with the connection. On failure the
   * connection is closed and it rejects (see `upgradeInbound`).
   */
  async handleIncoming(
    con: Socket | LineSocket,
    options: { signal?: AbortSignal; method?: ConnectMethod; expectedNodeId?: string } = {},
  ): Promise<IncomingConnection | undefined> {
    const signals = [this.#closing.signal, AbortSignal.timeout(this.#s.helloTimeout)]
    if (options.signal !== undefined) signals.push(options.signal)
    return acceptIncoming(con, {
      upgrade: this.#s.upgrade,
      signal: anySignal(...signals),
      method: options.method ?? 'direct',
      expectedNodeId: options.expectedNodeId,
      pending: this.#pending,
      admit: this.#relay.admission(this.#admit, options.method),
    })
  }

  /**
   * Dials a node a bootstrap server listed (the original's `bootstrap()` + `add_node()`), through the
   * same hello step as `connect()`: method `direct`. Rejects with ERR_CONNECT_FAILED (the dial's error
   * in `attempts`), ERR_CONNECT_TIMEOUT, ERR_ABORTED or ERR_CLOSED.
   */
  dialNode(node: ListedNode, options: DialNodeOptions = {}): Promise<ConnectResult> {
    if (this.#closing.signal.aborted) return Promise.reject(UnlError.CLOSED())
    const method = { method: 'direct', host: node.host, port: node.port } as const
    return runPlan(
      { methods: [method], skipped: [] },
      {
        nodeId: node.nodeId,
        attempt: (m, signal) => this.#dial(m.host!, m.port!, newNonce(), node.nodeId, signal),
        closing: this.#closing.signal,
        signal: options.signal,
        timeout: options.timeout ?? this.#s.dialTimeout,
        started: performance.now(),
        secure: this.#s.secure,
      },
    )
  }

  /**
   * Serve every connection `server` accepts with `handleIncoming`, emitting `connection` for those
   * that are not answers to our own requests (closed when nobody listens). Stops at `close()`.
   */
  acceptOn(server: Server): void {
    const onSocket = (socket: Socket): void => this.#serve(socket, 'direct')
    server.on('connection', onSocket)
    this.#servers.set(server, onSocket)
  }

  /** Stop answering reverse requests and fail pending `connect()` calls. Idempotent. */
  close(): void {
    if (this.#closing.signal.aborted) return
    this.#closing.abort(UnlError.CLOSED())
    this.#reverse.close()
    for (const [server, fn] of this.#servers) server.off('connection', fn)
    this.#servers.clear()
  }

  async #connect(theirInput: UNL | string, options: ConnectOptions): Promise<ConnectResult> {
    const started = performance.now()
    if (this.#closing.signal.aborted) throw UnlError.CLOSED()
    const theirs = typeof theirInput === 'string' ? UNL.parse(theirInput) : theirInput
    if (isSameNode(this.#unl, theirs)) throw UnlError.CONNECT_SELF()
    const plan = planConnect(this.#unl, theirs, {
      reverse: this.#reverse.available,
      punch: this.#puncher !== undefined,
      ...this.#relay.capabilities(theirs),
    })
    return runPlan(plan, {
      nodeId: theirs.nodeId,
      attempt: (m, signal) => this.#attempt(m, theirs, signal),
      closing: this.#closing.signal,
      signal: options.signal,
      timeout: options.timeout ?? CONNECT_TIMEOUT_MS,
      started,
      secure: this.#s.secure,
      relayOf: (con) => this.#relay.of(con),
    })
  }

  async #attempt(m: PlannedMethod, theirs: UNL, signal: AbortSignal, nonce = newNonce()) {
    switch (m.method) {
      case 'lan':
      case 'direct':
        return this.#dial(m.host!, m.port!, nonce, theirs.nodeId, signal)
      case 'reverse':
        // The peer dials us: its connection passes the inbound step in handleIncoming.
        return this.#reverse.request(theirs, nonce, signal)
      case 'punch': {
        const ours = this.#unl
        const master = isMaster(ours, theirs)
        const con = await this.#puncher!.punch({ ours, theirs, nonce, master, signal })
        return this.#upgrade(con, nonce, theirs.nodeId, signal)
      }
      case 'relay': // a raw circuit, then the same upgrade (end-to-end handshake) as a dial
        return this.#relay.attempt(this.#unl, theirs, nonce, signal, this.#upgrade.bind(this))
    }
  }

  /** A TCP dial past the outbound step (`connect()`, `dialNode()`, reverse dial-backs). */
  async #dial(host: string, port: number, nonce: string, expected: string, signal: AbortSignal) {
    // A bare socket: the upgrade step's handshake must read its first bytes.
    const socket = await connectSocket({ host, port, signal, timeout: this.#s.dialTimeout })
    return this.#upgrade(socket, nonce, expected, signal)
  }

  // The dialler (and the punch candidate) is the handshake's initiator and names whom it expects.
  async #upgrade(con: Socket | LineSocket, nonce: string, expectedNodeId: string, signal: AbortSignal) {
    const nodeId = this.#unl.nodeId
    const o = { ...this.#s.upgrade, nodeId, nonce, expectedNodeId, signal }
    return (await upgradeOutbound(con, o)).connection
  }

  // Peers act on a reverse request only when its UNL's node id is the relay-authenticated sender, and
  // a secure handshake proves the identity's node id: both must be the UNL's (plain: ids prove nothing).
  #checkUnl(unl: UNL): UNL {
    if (this.#transport !== undefined && unl.nodeId !== this.#transport.nodeId) {
      throw UnlError.INVALID_UNL('nodeId', `must be the transport's node id ${this.#transport.nodeId}`)
    }
    checkIdentity(this.#s, unl.nodeId)
    return unl
  }

  #serve(con: Socket | LineSocket, method: ConnectMethod, expectedNodeId?: string, relay?: string): void {
    this.handleIncoming(con, { method, ...(expectedNodeId !== undefined && { expectedNodeId }) }).then(
      (incoming) => incoming && this.#deliver(this.#relay.delivered(incoming, relay)),
      (err: unknown) => log('incoming %s connection refused: %s', method, (err as Error).message),
    )
  }

  #deliver(incoming: IncomingConnection): void {
    if (this.listenerCount('connection') > 0) {
      this.emit('connection', incoming)
      return
    }
    log('no connection listener: closing the connection from %s', incoming.nodeId)
    incoming.connection.close()
  }
}
