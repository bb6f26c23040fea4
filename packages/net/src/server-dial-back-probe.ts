/**
 * `ServerDialBackProbe`, the default reachability probe: the bootstrap server connects back to the
 * address it sees us at (only that address; the port is ours to name) and sends a nonce; reachable when
 * it got through and the nonce arrived at our listener (`DialBackListener`).
 */
import { randomBytes } from 'node:crypto'
import { anySignal, plainAddress } from '@pyp2p/framing'
import { isPunchError, RendezvousClient } from '@pyp2p/punch'
import type { ServerMessage } from '@pyp2p/rendezvous-protocol'
import {
  DIAL_BACK_ARRIVAL_MS,
  DIAL_BACK_NONCE_BYTES,
  DIAL_BACK_PROBE_TIMEOUT_MS,
  NODE_ID_BYTES,
} from './constants.js'
import type { DialBackListener } from './dial-back-listener.js'
import {
  ObservedAddressProbe,
  type ReachabilityProbe,
  type ReachabilityQuery,
  type ReachabilityVerdict,
} from './reachability.js'

type ReachableMessage = Extract<ServerMessage, { type: 'REACHABLE' }>

/** A bootstrap server to ask for a dial-back. */
export interface DialBackServer {
  host: string
  port: number
}

export interface ServerDialBackProbeOptions {
  /** The bootstrap server to ask, or a function that returns it (`start()` passes the one that answered). */
  server: DialBackServer | (() => DialBackServer | undefined)
  /**
   * Our listener's probe recogniser. With it the port counts as reachable only when the server's nonce
   * arrived at our listener; without it the server's `YES` is trusted. `start()` passes its own.
   */
  listener?: DialBackListener
  /** Asked when the server cannot check (no `CHECK` command, rate-limited, unreachable). Default `ObservedAddressProbe`. */
  fallback?: ReachabilityProbe
  /** Bound on one check, ms. Default `DIAL_BACK_PROBE_TIMEOUT_MS` (10 s). */
  timeout?: number
  /** After the server's `YES`, how long to wait for the nonce at our listener, ms. Default `DIAL_BACK_ARRIVAL_MS` (5 s). */
  arrivalTimeout?: number
}

/**
 * The default probe: the bootstrap server connects back to the address it sees us at (only that
 * address; the port is ours to name) and sends a nonce; reachable when it got through and the nonce
 * arrived at our listener.
 */
export class ServerDialBackProbe implements ReachabilityProbe {
  readonly name = 'server-dial-back'
  readonly #server: () => DialBackServer | undefined
  readonly #listener: DialBackListener | undefined
  readonly #fallback: ReachabilityProbe
  readonly #timeout: number
  readonly #arrivalTimeout: number

  constructor(options: ServerDialBackProbeOptions) {
    const { server } = options
    this.#server = typeof server === 'function' ? server : () => server
    this.#listener = options.listener
    this.#fallback = options.fallback ?? new ObservedAddressProbe()
    this.#timeout = options.timeout ?? DIAL_BACK_PROBE_TIMEOUT_MS
    this.#arrivalTimeout = options.arrivalTimeout ?? DIAL_BACK_ARRIVAL_MS
  }

  async check(q: ReachabilityQuery): Promise<ReachabilityVerdict> {
    const server = this.#server()
    if (q.observed === undefined || server === undefined) {
      return this.#fallBack(q, 'no bootstrap server to dial back')
    }
    const at = `${plainAddress(q.observed.ip)}:${q.port}`
    const nonce = randomBytes(DIAL_BACK_NONCE_BYTES).toString('base64url')
    this.#listener?.expect(nonce)
    let reply: ReachableMessage
    try {
      reply = await askDialBack(
        server,
        q.port,
        nonce,
        anySignal(q.signal, AbortSignal.timeout(this.#timeout)),
      )
    } catch (err) {
      this.#listener?.forget(nonce)
      q.signal.throwIfAborted()
      if (isPunchError(err) && err.code === 'ERR_SERVER_ERROR') {
        const text = err.message.split(`${err.serverCode}: `)[1] ?? err.message
        return this.#fallBack(q, `the server did not dial back (${err.serverCode} ${text})`)
      }
      return this.#fallBack(
        q,
        `asking ${server.host}:${server.port} to dial back failed (${(err as Error).message})`,
      )
    }
    if (!reply.reachable) {
      this.#listener?.forget(nonce)
      return { reachable: 'unreachable', reason: `the server could not connect to ${at}: ${reply.reason}` }
    }
    const mapped =
      q.mapped && plainAddress(q.host) !== plainAddress(q.observed.ip) ? ` (the mapping says ${q.host})` : ''
    if (this.#listener === undefined) {
      return { reachable: 'reachable', reason: `the server connected back to ${at}${mapped}` }
    }
    const arrived = await this.#listener.arrived(
      nonce,
      anySignal(q.signal, AbortSignal.timeout(this.#arrivalTimeout)),
    )
    q.signal.throwIfAborted()
    return arrived
      ? {
          reachable: 'reachable',
          reason: `the server connected back to ${at}${mapped} and our listener got its nonce`,
        }
      : {
          reachable: 'unreachable',
          reason: `the server connected to ${at}${mapped}, but its nonce never reached our listener: something else answers there`,
        }
  }

  async #fallBack(q: ReachabilityQuery, why: string): Promise<ReachabilityVerdict> {
    const v = await this.#fallback.check(q)
    return { reachable: v.reachable, reason: `${why}; ${this.#fallback.name}: ${v.reason}` }
  }
}

/** One short connection to the server (@pyp2p/punch's client): `CHECK TCP <port> <nonce>` and its reply. */
async function askDialBack(
  server: DialBackServer,
  port: number,
  nonce: string,
  signal: AbortSignal,
): Promise<ReachableMessage> {
  // The server keys nothing on a CHECK connection's node id; any valid one will do.
  const nodeId = randomBytes(NODE_ID_BYTES).toString('hex')
  const client = await RendezvousClient.connect({ server, nodeId, signal })
  try {
    return (await client.request({ type: 'CHECK', port, nonce }, { signal })) as ReachableMessage
  } finally {
    client.close()
  }
}
