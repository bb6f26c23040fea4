/**
 * The step of `start()` that decides whether our listening port can be reached from outside, behind a
 * small interface. The original asked external "forwarding servers" to connect back. The default here,
 * `ServerDialBackProbe`, asks the bootstrap server to do that (`CHECK TCP <port> <nonce>`): it connects
 * to the address it sees us at, sends the nonce, and says whether it got through; the port counts as
 * reachable only when that nonce also arrived at our own listener (`DialBackListener`, which drops the
 * probe connection quietly). `ObservedAddressProbe` concludes what it can from the address the server
 * saw, without any dial: the fallback for servers without `CHECK`.
 */
import { randomBytes } from 'node:crypto'
import { connectLine, type LineSocket, plainAddress } from '@pyp2p/framing'
import {
  formatClientMessage,
  MAX_DIAL_BACK_LINE_LENGTH,
  MAX_SERVER_LINE_LENGTH,
  mayBeDialBack,
  parseDialBackLine,
  parseServerMessage,
  type ServerMessage,
} from '@pyp2p/rendezvous-protocol'
import { DIAL_BACK_ARRIVAL_MS, DIAL_BACK_NONCE_BYTES, DIAL_BACK_PROBE_TIMEOUT_MS } from './constants.js'
import { isLocalAddress, isUnspecified } from './local-addresses.js'

/** `unknown`: the probe cannot tell (e.g. a router mapping it has no way to test). */
export type Reachability = 'reachable' | 'unreachable' | 'unknown'

export interface ReachabilityQuery {
  /** The address and port others would dial (our WAN address and listening or mapped port). */
  host: string
  port: number
  /** The listening socket's bound address and port. */
  listen: { address: string; port: number }
  /** What the bootstrap server saw of our connection to it, when one answered. */
  observed: { ip: string; port: number } | undefined
  /** True when `host:port` is a router's port mapping (UPnP / NAT-PMP) rather than the listener itself. */
  mapped: boolean
  signal: AbortSignal
}

export interface ReachabilityVerdict {
  reachable: Reachability
  /** For humans: how the verdict was reached. */
  reason: string
}

export interface ReachabilityProbe {
  /** For reports, e.g. `observed-address` or `server-dial-back`. */
  readonly name: string
  check(query: ReachabilityQuery): Promise<ReachabilityVerdict>
}

/** The default probe: reachable when the server saw us at one of our own addresses, on which we listen. */
export class ObservedAddressProbe implements ReachabilityProbe {
  readonly name = 'observed-address'

  async check(q: ReachabilityQuery): Promise<ReachabilityVerdict> {
    if (q.observed === undefined) {
      return { reachable: 'unknown', reason: 'no bootstrap server saw us, so our public address is unknown' }
    }
    if (q.mapped) {
      return {
        reachable: 'unknown',
        reason: `${q.host}:${q.port} is a router mapping this probe cannot test (no dial-back from the server)`,
      }
    }
    const seen = plainAddress(q.observed.ip)
    if (!isLocalAddress(seen)) {
      return {
        reachable: 'unreachable',
        reason: `the server saw us at ${seen}, which is not an address of this host: a NAT is in between`,
      }
    }
    const bound = plainAddress(q.listen.address)
    if (!isUnspecified(bound) && bound !== seen) {
      return {
        reachable: 'unreachable',
        reason: `the server saw us at ${seen} but we listen on ${bound} only`,
      }
    }
    return {
      reachable: 'reachable',
      reason: `the server saw us at ${seen}, an address of this host (no NAT), and we listen on it`,
    }
  }
}

/**
 * Our listener's side of a dial-back: recognises the server's probe connection by its first line
 * (`PYP2P-DIALBACK/1 <nonce>`), drops it without counting or logging it as a peer, and tells the probe
 * that its nonce arrived.
 */
export class DialBackListener {
  readonly #expected = new Map<string, { seen: boolean; wake: (() => void) | undefined }>()
  #dropped = 0

  /** Probe connections recognised and dropped so far. */
  get dropped(): number {
    return this.#dropped
  }

  /** Starts waiting for `nonce` (call before asking the server, so an early arrival is kept). */
  expect(nonce: string): void {
    this.#expected.set(nonce, { seen: false, wake: undefined })
  }

  /** Resolves true once `nonce` arrived (maybe already), false when `signal` fires first. Forgets it. */
  async arrived(nonce: string, signal: AbortSignal): Promise<boolean> {
    const entry = this.#expected.get(nonce)
    if (entry === undefined) return false
    try {
      if (entry.seen) return true
      if (signal.aborted) return false
      return await new Promise<boolean>((resolve) => {
        const onAbort = (): void => resolve(false)
        entry.wake = () => {
          signal.removeEventListener('abort', onAbort)
          resolve(true)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    } finally {
      this.#expected.delete(nonce)
    }
  }

  /** Stops waiting for `nonce`. */
  forget(nonce: string): void {
    this.#expected.delete(nonce)
  }

  /**
   * Runs `next` (the normal handling of an accepted connection: reading its hello) unless the
   * connection turns out to be a dial-back probe: then `next` is aborted, the connection closed, and
   * `undefined` returned instead of an error. Watches only the first line, and only while it can
   * still be a probe.
   */
  async screen<T>(
    con: LineSocket,
    signal: AbortSignal,
    next: (signal: AbortSignal) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const probe = new AbortController()
    const socket = con.socket
    let head = ''
    let nonce: string | undefined
    // Prepended, so it sees the bytes before the LineSocket turns them into the line `next` waits for.
    const onData = (chunk: Buffer | string): void => {
      head += typeof chunk === 'string' ? chunk : chunk.toString('latin1')
      if (!mayBeDialBack(head)) {
        stop()
        return
      }
      const end = head.indexOf('\n')
      if (end === -1) {
        if (head.length > MAX_DIAL_BACK_LINE_LENGTH + 2) stop()
        return
      }
      stop()
      try {
        nonce = parseDialBackLine(head.slice(0, end).replace(/\r$/, ''))
      } catch {
        return // starts like a probe but is not one: `next` decides what it is
      }
      const entry = this.#expected.get(nonce)
      if (entry !== undefined) {
        entry.seen = true
        entry.wake?.()
      }
      probe.abort()
    }
    const stop = (): void => {
      socket.off('data', onData)
    }
    socket.prependListener('data', onData)
    try {
      return await next(AbortSignal.any([signal, probe.signal]))
    } catch (err) {
      if (nonce === undefined) throw err
      this.#dropped++
      con.close()
      return undefined
    } finally {
      stop()
    }
  }
}

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
    let reply: ServerMessage
    try {
      reply = await askDialBack(
        server,
        q.port,
        nonce,
        AbortSignal.any([q.signal, AbortSignal.timeout(this.#timeout)]),
      )
    } catch (err) {
      this.#listener?.forget(nonce)
      q.signal.throwIfAborted()
      return this.#fallBack(
        q,
        `asking ${server.host}:${server.port} to dial back failed (${(err as Error).message})`,
      )
    }
    if (reply.type !== 'REACHABLE') {
      this.#listener?.forget(nonce)
      const what = reply.type === 'ERROR' ? `${reply.code} ${reply.text}` : `a ${reply.type} reply`
      return this.#fallBack(q, `the server did not dial back (${what})`)
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
      AbortSignal.any([q.signal, AbortSignal.timeout(this.#arrivalTimeout)]),
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

/** One short connection to the server: HELLO, `CHECK TCP <port> <nonce>`, the reply (PINGs answered). */
async function askDialBack(
  server: DialBackServer,
  port: number,
  nonce: string,
  signal: AbortSignal,
): Promise<ServerMessage> {
  const con = await connectLine({
    host: server.host,
    port: server.port,
    signal,
    maxLineLength: MAX_SERVER_LINE_LENGTH,
  })
  try {
    const hello = parseServerMessage(await con.readLine({ signal }))
    if (hello.type !== 'HELLO') throw new Error(`expected HELLO, got ${hello.type}`)
    con.sendLine(formatClientMessage({ type: 'CHECK', port, nonce }))
    for (;;) {
      const msg = parseServerMessage(await con.readLine({ signal }))
      if (msg.type !== 'PING') return msg
      con.sendLine(formatClientMessage({ type: 'PONG', token: msg.token }))
    }
  } finally {
    con.close()
  }
}
