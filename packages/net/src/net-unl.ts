/**
 * `net.unl`: this node's UNL and the original's `net.unl.connect(other_unl, events)`. The connection
 * joins the Net (it is yielded by `for (const con of net)`) under the same rules as any outbound one;
 * a node that refuses it as a duplicate (`ERR_DUPLICATE`) fails it with `ERR_DUPLICATE_CONNECTION`.
 */
import type { LineSocket } from '@pyp2p/framing'
import { type ConnectMethod, UNL, type UnlConnector } from '@pyp2p/unl'
import { connectReason } from './connect-reason.js'
import type { ConnectionSet, PeerInfo } from './connection-set.js'
import { NetError } from './errors.js'
import { refusalOf } from './net-bootstrap.js'
import type { NetType } from './options.js'

/** The original's `events` argument: `{ success(con), failure(err) }`. */
export interface ConnectEvents {
  success?: (connection: LineSocket, info: PeerInfo) => void
  failure?: (error: Error) => void
}

export interface UnlConnectOptions {
  signal?: AbortSignal
  /** The whole attempt, ms. Default @pyp2p/unl's `CONNECT_TIMEOUT_MS` (60 s, the original's). */
  timeout?: number
  events?: ConnectEvents
}

export type UnlConnectFn = (theirs: UNL | string, options: UnlConnectOptions) => Promise<LineSocket>

function isEvents(v: ConnectEvents | UnlConnectOptions): v is ConnectEvents {
  return (
    typeof (v as ConnectEvents).success === 'function' || typeof (v as ConnectEvents).failure === 'function'
  )
}

export class NetUnl {
  readonly #unl: () => UNL
  readonly #connect: UnlConnectFn

  /** `unl`: our UNL now (it names another relay after a server failover, event `relay:moved`). */
  constructor(unl: () => UNL, connect: UnlConnectFn) {
    this.#unl = unl
    this.#connect = connect
  }

  /** The parsed UNL (fields: node id, node type, NAT type, forwarding, port, addresses). */
  get unl(): UNL {
    return this.#unl()
  }

  /** The UNL's text, to hand to another node (the original's `unl.value`). */
  get value(): string {
    return this.unl.text
  }

  get text(): string {
    return this.unl.text
  }

  /**
   * Connects to the node `theirs` describes by the best method (@pyp2p/unl) and adds the connection to
   * the Net. The second argument is the original's `{ success, failure }` or `{ signal, timeout, events }`.
   * With callbacks, a failure goes to `failure` and the returned promise may be left unobserved.
   */
  connect(theirs: UNL | string, options: ConnectEvents | UnlConnectOptions = {}): Promise<LineSocket> {
    const opts: UnlConnectOptions = isEvents(options) ? { events: options } : options
    const run = this.#connect(theirs, opts)
    if (opts.events !== undefined) run.catch(() => {})
    return run
  }

  toString(): string {
    return this.unl.text
  }

  toJSON(): string {
    return this.unl.text
  }
}

/** What `connectByUnl` needs from the Net. */
export interface UnlConnectContext {
  /** The connector; throws `ERR_NOT_STARTED`/`ERR_STOPPED` when there is none. */
  started(): UnlConnector
  set(): ConnectionSet
  netType: NetType
  maxOutbound: number
  signal(signal: AbortSignal | undefined): AbortSignal
  /** Joins the net; `reason` is why it was made this way (`net.info(con).reason`). */
  add(con: LineSocket, nodeId: string, method: ConnectMethod, reason: string): PeerInfo | undefined
}

/** `net.unl.connect()`: the Net's rules first, then @pyp2p/unl's connector, then the connection joins. */
export async function connectByUnl(
  theirsInput: UNL | string,
  options: UnlConnectOptions,
  ctx: UnlConnectContext,
): Promise<LineSocket> {
  const { events } = options
  try {
    const connector = ctx.started()
    const theirs = typeof theirsInput === 'string' ? UNL.parse(theirsInput) : theirsInput
    const set = ctx.set()
    const refusal = set.refusal(theirs.nodeId, 'outbound')
    if (refusal === 'self') throw NetError.CONNECT_SELF()
    if (refusal === 'max-outbound') throw NetError.MAX_OUTBOUND(ctx.maxOutbound)
    if (refusal === 'closed') throw NetError.STOPPED('unl.connect()')
    if (ctx.netType === 'p2p' && set.hasNode(theirs.nodeId))
      throw NetError.DUPLICATE_CONNECTION(theirs.nodeId)
    const result = await connector
      .connectWithReport(theirs, {
        signal: ctx.signal(options.signal),
        ...(options.timeout !== undefined && { timeout: options.timeout }),
      })
      .catch((err: unknown) => {
        // The node refused us as a duplicate (a final refusal: the connector tried nothing after it).
        const duplicate =
          (err as { code?: unknown }).code === 'ERR_CONNECT_FAILED' && refusalOf(err) === 'ERR_DUPLICATE'
        throw duplicate ? NetError.DUPLICATE_CONNECTION(theirs.nodeId, err) : err
      })
    const reason = connectReason('unl.connect()', result, connector.unl, theirs)
    const info = ctx.add(result.connection, theirs.nodeId, result.method, reason)
    if (info === undefined) {
      // Another connection to that node (or past a limit) won the race while we were connecting.
      const again = set.refusal(theirs.nodeId, 'outbound')
      throw again === 'max-outbound'
        ? NetError.MAX_OUTBOUND(ctx.maxOutbound)
        : NetError.DUPLICATE_CONNECTION(theirs.nodeId)
    }
    events?.success?.(result.connection, info)
    return result.connection
  } catch (err) {
    events?.failure?.(err as Error)
    throw err
  }
}
