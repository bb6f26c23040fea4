/**
 * A client of the rendezvous (bootstrap) server: one `@pyp2p/framing` connection speaking
 * `@pyp2p/rendezvous-protocol`. It answers the server's `PING`s by itself, matches replies to requests
 * in order (the protocol gives every command exactly one reply), and emits what arrives unasked:
 * `challenge` (someone wants to punch to this simultaneous node), `fight` and `punch-end` (a candidate's
 * punch started or ended), `reconnect`, and `close`.
 */
import { EventEmitter } from 'node:events'
import type { CloseInfo, LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import {
  type ChallengeMessage,
  type ClientMessage,
  type ErrorMessage,
  type FightMessage,
  formatClientMessage,
  type InboundPolicy,
  type NodeEntry,
  parseServerMessage,
  type ServerMessage,
} from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { DEFAULT_MAX_INBOUND, REPLY_TIMEOUT_MS } from './constants.js'
import { PunchError, type PunchStage } from './errors.js'
import { PunchNews } from './punch-news.js'
import { ConnectionProof, type HelloProofs } from './rendezvous-client-proof.js'
import { openRendezvous, type RendezvousConnectOptions } from './rendezvous-connect.js'
import { type BootstrapOptions, ReplyQueue, type RequestOptions } from './reply-queue.js'

export type { RendezvousConnectOptions, ServerAddress } from './rendezvous-connect.js'
export type { BootstrapOptions, RequestOptions } from './reply-queue.js'
export { errorFromServer } from './server-reply.js'

const log = createDebug('pyp2p:punch:rendezvous')

export interface RendezvousClientEvents {
  challenge: [challenge: ChallengeMessage]
  fight: [fight: FightMessage]
  /** An `ERROR ... punch=<id>` that is not a reply: that punch is over on the server. */
  'punch-end': [error: ErrorMessage]
  reconnect: []
  close: [info: CloseInfo]
}

export class RendezvousClient extends EventEmitter<RendezvousClientEvents> {
  readonly connection: LineSocket
  readonly nodeId: string
  /** The address and port the server saw this connection come from (its `HELLO`). */
  readonly observed: { readonly ip: string; readonly port: number }
  readonly localPort: number
  readonly stage: PunchStage
  readonly #replies: ReplyQueue
  readonly #where: string
  /** How long the server keeps a registration (its `HELLO`'s `lifetime=`), ms, if it says. */
  readonly lifetimeMs: number | undefined
  /** The `HELLO`'s nonce and server id (what proofs sign), and whether a proof on it has bound the id. */
  readonly #proof: ConnectionProof
  /** Unsolicited punch messages kept for {@link waitForFight}. */
  readonly #punchNews = new PunchNews()
  /** The `INBOUND` policy sent on this connection (the server keeps it per connection). */
  #inbound: Promise<void> | undefined
  #inboundPolicy: InboundPolicy | undefined

  private constructor(
    connection: LineSocket,
    nodeId: string,
    hello: { ip: string; port: number; lifetimeSeconds?: number | undefined } & HelloProofs,
    stage: PunchStage,
    where: string,
    identity: NodeIdentity | undefined,
  ) {
    super()
    this.connection = connection
    this.nodeId = nodeId
    this.observed = { ip: hello.ip, port: hello.port }
    this.#proof = new ConnectionProof(identity, hello)
    this.lifetimeMs = hello.lifetimeSeconds === undefined ? undefined : hello.lifetimeSeconds * 1000
    this.localPort = connection.localPort ?? 0
    this.stage = stage
    this.#where = where
    this.#replies = new ReplyQueue(stage)
    connection.on('line', (line) => this.#onLine(line))
    void connection.closed.then((info) => {
      this.#replies.failAll(PunchError.SERVER_UNREACHABLE(this.stage, this.#where, info.error))
      this.emit('close', info)
    })
  }

  /** Connects, reads the server's `HELLO` and returns the client. */
  static async connect(options: RendezvousConnectOptions): Promise<RendezvousClient> {
    const { connection, hello, where, stage } = await openRendezvous(options)
    const nodeId = options.nodeId.toLowerCase()
    return new RendezvousClient(connection, nodeId, hello, stage, where, options.identity)
  }

  /** Whether the server asked for proofs of ownership (its `HELLO` carried a nonce and a server id). */
  get asksForProof(): boolean {
    return this.#proof.asked
  }

  /** Whether the server holds our node id as proven on this connection (commands as it go unsigned). */
  get proven(): boolean {
    return this.#proof.proven
  }

  get isOpen(): boolean {
    return this.connection.isOpen
  }

  #send(msg: ClientMessage): void {
    try {
      this.connection.sendLine(formatClientMessage(msg))
    } catch (err) {
      throw PunchError.SERVER_UNREACHABLE(this.stage, this.#where, err)
    }
  }

  #onLine(line: string): void {
    let msg: ServerMessage
    try {
      msg = parseServerMessage(line)
    } catch (err) {
      // Not fatal by itself, but the reply order is lost: fail the request it was meant for.
      log('unparsable line from server: %o', line.slice(0, 80))
      this.#replies.failNext(
        PunchError.PROTOCOL(this.stage, `unparsable line ${JSON.stringify(line.slice(0, 80))}`, err),
      )
      return
    }
    const req = this.#replies.head
    switch (msg.type) {
      case 'PING':
        if (this.connection.isOpen) this.#send({ type: 'PONG', token: msg.token })
        return
      case 'CHALLENGE':
        this.emit('challenge', msg)
        return
      case 'RECONNECT':
        this.emit('reconnect')
        return
      case 'FIGHT':
        if (req?.type === 'ACCEPT' && req.punchId === msg.punchId) break
        this.#punchNews.remember(msg.punchId, msg)
        this.emit('fight', msg)
        return
      case 'ERROR':
        if (msg.punchId !== undefined) {
          const mine = (req?.type === 'ACCEPT' || req?.type === 'REJECT') && req.punchId === msg.punchId
          if (!mine) {
            this.#punchNews.remember(msg.punchId, msg)
            this.emit('punch-end', msg)
            return
          }
        }
        break
    }
    if (!this.#replies.deliver(msg)) log('unexpected %s from server (no request pending)', msg.type)
  }

  /**
   * Sends one command and resolves with its reply (`ERROR` replies become `ERR_SERVER_ERROR`, or the
   * punch verdict codes, or `ERR_SIGNATURE_REQUIRED`). Rejects on timeout, abort, or when the
   * connection closes. With an `identity`, commands as its node id are signed until {@link proven}.
   */
  async request(msg: ClientMessage, options: RequestOptions = {}): Promise<ServerMessage> {
    const out = this.#proof.outgoing(msg)
    const reply = await this.#replies.expect(out, () => this.#send(out), options)
    this.#proof.succeeded(msg, out)
    return reply
  }

  /** `SOURCE TCP <local port>` → the source port the server saw on this connection. */
  async source(options?: RequestOptions): Promise<number> {
    const reply = await this.request({ type: 'SOURCE', localPort: this.localPort }, options)
    return (reply as Extract<ServerMessage, { type: 'REMOTE' }>).port
  }

  /**
   * `BOOTSTRAP <n>` → up to n nodes the server knows (never this client's own). Nodes whose ids the
   * server could not prove are skipped unless `includeUnproven` (`BOOTSTRAP <n> MARKED` on a server that
   * asks for proofs; an older server marks nothing).
   */
  async bootstrap(count: number, options: BootstrapOptions = {}): Promise<readonly NodeEntry[]> {
    const { includeUnproven = false, ...request } = options
    const msg = this.asksForProof
      ? ({ type: 'BOOTSTRAP', count, marked: true } as const)
      : ({ type: 'BOOTSTRAP', count } as const)
    const { nodes } = (await this.request(msg, request)) as Extract<ServerMessage, { type: 'NODES' }>
    return includeUnproven ? nodes : nodes.filter((n) => n.unproven !== true)
  }

  /** `PASSIVE READY`: listed by `BOOTSTRAP` at this connection's address and `port`. */
  async registerPassive(
    port: number,
    maxInbound = DEFAULT_MAX_INBOUND,
    options?: RequestOptions,
  ): Promise<void> {
    await this.request({ type: 'READY', nodeType: 'passive', port, maxInbound, nodeId: this.nodeId }, options)
  }

  /** `SIMULTANEOUS READY`: challenges arrive on this connection (`challenge` events) while it is open. */
  async registerSimultaneous(
    port: number,
    maxInbound = DEFAULT_MAX_INBOUND,
    options?: RequestOptions,
  ): Promise<void> {
    await this.request(
      { type: 'READY', nodeType: 'simultaneous', port, maxInbound, nodeId: this.nodeId },
      options,
    )
  }

  /** `CANDIDATE <target> <own> TCP <ports>` → the punch id. `FIGHT` follows as a `fight` event. */
  async candidate(targetNodeId: string, ports: readonly number[], options?: RequestOptions): Promise<string> {
    const reply = await this.request(
      { type: 'CANDIDATE', targetNodeId: targetNodeId.toLowerCase(), nodeId: this.nodeId, ports },
      options,
    )
    return (reply as Extract<ServerMessage, { type: 'PREDICTION_SET' }>).punchId
  }

  /** `ACCEPT <punch-id> TCP <ports>` → the `FIGHT` (peer address, ports, delay). */
  async accept(punchId: string, ports: readonly number[], options?: RequestOptions): Promise<FightMessage> {
    return (await this.request({ type: 'ACCEPT', punchId, ports }, options)) as FightMessage
  }

  /** `REJECT <punch-id> <reason>`: the candidate gets `ERR_PUNCH_REJECTED`. */
  async reject(punchId: string, reason: string, options?: RequestOptions): Promise<void> {
    await this.request({ type: 'REJECT', punchId, reason }, options)
  }

  /**
   * `INBOUND TCP RST|DROP`: what this node's router does with unsolicited SYNs ({@link detectInbound}),
   * so the server can order this connection's punches. Rejects with `ERR_SERVER_ERROR` (`serverCode:
   * 'ERR_UNKNOWN_COMMAND'`) on a server without it; may be sent just before `CANDIDATE`/`ACCEPT`
   * (replies come in order). Sent once per policy: later calls return the first call's promise (a
   * target answering many challenges would otherwise spend a line of the server's flood limit on each).
   */
  declareInbound(policy: InboundPolicy, options?: RequestOptions): Promise<void> {
    if (this.#inbound !== undefined && this.#inboundPolicy === policy) return this.#inbound
    this.#inboundPolicy = policy
    this.#inbound = this.request({ type: 'INBOUND', policy }, options).then(() => undefined)
    return this.#inbound
  }

  /** `CLEAR`: the server forgets every node this connection registered. */
  async clear(options?: RequestOptions): Promise<void> {
    await this.request({ type: 'CLEAR' }, options)
  }

  /**
   * Waits for the `FIGHT` of `punchId` (candidate side), or throws the server's verdict on it
   * (`ERR_PUNCH_REJECTED`, `ERR_PEER_GONE`, `ERR_TIMEOUT`), or `ERR_SERVER_UNREACHABLE` on close.
   */
  waitForFight(punchId: string, options: RequestOptions = {}): Promise<FightMessage> {
    return this.#punchNews.wait(
      punchId,
      (h) => {
        this.on('fight', h.fight).on('punch-end', h.end).on('close', h.close)
        return () => this.off('fight', h.fight).off('punch-end', h.end).off('close', h.close)
      },
      {
        stage: this.stage,
        isOpen: this.connection.isOpen,
        unreachable: (cause) => PunchError.SERVER_UNREACHABLE(this.stage, this.#where, cause),
      },
      options,
    )
  }

  /**
   * Sends `QUIT` and waits (bounded) until the server has closed: the server closes first, so the
   * TIME_WAIT of this connection stays on the server and the local port is free at once.
   */
  async quit(options: { timeout?: number } = {}): Promise<void> {
    if (this.connection.isOpen) {
      try {
        this.#send({ type: 'QUIT' })
      } catch {
        // already closing: nothing to say goodbye on
      }
      const timer = setTimeout(() => this.connection.close(), options.timeout ?? REPLY_TIMEOUT_MS)
      await this.connection.closed
      clearTimeout(timer)
    }
  }

  /** Closes the connection at once (idempotent). A simultaneous registration ends with it. */
  close(): void {
    this.connection.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close()
    await this.connection.closed
  }
}
