/**
 * `CircuitReservation`: a node's standing place at a relay so others can reach it through a circuit.
 * One control connection (RESERVE → CHALLENGE → PROVE, signed with the node's identity over the
 * relay's nonce), kept alive with PING, healed after a drop (connecting → reserved → backing off, with
 * jittered exponential back-off and an event per transition). Each `INCOMING` is accepted on a fresh
 * connection (`ACCEPT`) and emitted as `incoming` with the raw socket, for the node's accept step.
 */
import { EventEmitter } from 'node:events'
import { connectLine, type LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import createDebug from 'debug'
import {
  DIAL_TIMEOUT_MS,
  MAX_CONTROL_LINE,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  RESERVATION_KEEPALIVE_MS,
  RESERVE_CONTEXT,
} from './constants.js'
import { CircuitError } from './errors.js'
import {
  type CircuitLimits,
  type EndReason,
  formatPing,
  formatProve,
  formatReserve,
  parseServerLine,
} from './protocol.js'
import { acceptCircuit, type RelayAddress, type RelayedSocket } from './relay-dial.js'

const log = createDebug('pyp2p:relay')

export interface ReservationOptions extends RelayAddress {
  /** Who we are: the relay admits circuits to this node id. */
  identity: NodeIdentity
  /** PING interval, ms; an unanswered PING drops the connection. Default RESERVATION_KEEPALIVE_MS (30 s). */
  keepAlive?: number
  /** Reserve again after a drop. Default true. */
  reconnect?: boolean
  /** Back-off after a drop, ms: first delay, doubling up to the max, +0-20 % jitter. Defaults 200 ms, 10 s. */
  reconnectMinDelay?: number
  reconnectMaxDelay?: number
  /** One connect plus handshake, and one ACCEPT, ms. Default DIAL_TIMEOUT_MS (10 s). */
  timeout?: number
  /** Ends `open()` (the first reservation) when it aborts; once granted, only `close()` ends it. */
  signal?: AbortSignal
}

/** A circuit a dialler opened to us, accepted: the raw socket, before any handshake. */
export interface IncomingCircuit extends RelayedSocket {
  /** The node id the dialler named (unproven until the end-to-end handshake). */
  dialler: string
  diallerIp: string
}

export type ReservationState = 'connecting' | 'reserved' | 'backing-off' | 'closed'

export interface ReservationEvents {
  reserved: [info: { limits: CircuitLimits }]
  incoming: [circuit: IncomingCircuit]
  /** The relay told us (over the reservation) how one of our circuits ended. */
  end: [info: { circuitId: string; reason: EndReason }]
  state: [state: ReservationState]
  disconnected: [info: { error: Error }]
  warning: [error: Error]
  close: []
}

export class CircuitReservation extends EventEmitter<ReservationEvents> {
  readonly relay: RelayAddress
  readonly #o: ReservationOptions
  readonly #closing = new AbortController()
  #con: LineSocket | undefined
  #state: ReservationState = 'connecting'
  #delay: number
  #retry: NodeJS.Timeout | undefined
  #ping: NodeJS.Timeout | undefined
  #limits: CircuitLimits | undefined

  private constructor(o: ReservationOptions) {
    super()
    this.#o = o
    this.relay = { host: o.host, port: o.port }
    this.#delay = o.reconnectMinDelay ?? RECONNECT_MIN_MS
    if (o.signal?.aborted) this.close()
    else o.signal?.addEventListener('abort', this.#onAbort, { once: true })
  }

  readonly #onAbort = (): void => this.close()

  /**
   * Reserves at the relay; resolves once `RESERVED` (then keeps the reservation, healing drops).
   * Rejects with the relay's refusal (`ERR_AUTH_FAILED`, `ERR_RELAY_FULL`), ERR_CONNECT_FAILED,
   * ERR_TIMEOUT or ERR_ABORTED; nothing is left running then.
   */
  static async open(o: ReservationOptions): Promise<CircuitReservation> {
    const r = new CircuitReservation(o)
    try {
      await r.#reserve()
    } catch (err) {
      r.close()
      throw err
    } finally {
      o.signal?.removeEventListener('abort', r.#onAbort)
    }
    return r
  }

  get state(): ReservationState {
    return this.#state
  }

  get nodeId(): string {
    return this.#o.identity.nodeId
  }

  /** The relay's per-circuit limits, as its `RESERVED` said. */
  get limits(): CircuitLimits | undefined {
    return this.#limits
  }

  /** Leaves the relay (the reservation ends with the connection). Idempotent. */
  close(): void {
    if (this.#state === 'closed') return
    this.#setState('closed')
    this.#closing.abort(CircuitError.CLOSED())
    clearTimeout(this.#retry)
    clearInterval(this.#ping)
    this.#con?.close()
    this.emit('close')
  }

  async #reserve(): Promise<void> {
    const timeout = this.#o.timeout ?? DIAL_TIMEOUT_MS
    // One attempt's signal: ended by close() or the timeout. Listeners of our own, removed after the
    // attempt (AbortSignal.any would leave an entry on the closing signal per reconnect on Node 20).
    const closing = this.#closing.signal
    if (closing.aborted) throw CircuitError.CLOSED()
    const attempt = new AbortController()
    const onClose = (): void => attempt.abort(closing.reason)
    closing.addEventListener('abort', onClose, { once: true })
    const timer = setTimeout(
      () => attempt.abort(new DOMException('the reservation attempt timed out', 'TimeoutError')),
      timeout,
    )
    timer.unref()
    try {
      await this.#attempt(attempt.signal, timeout)
    } finally {
      closing.removeEventListener('abort', onClose)
      clearTimeout(timer)
    }
  }

  async #attempt(signal: AbortSignal, timeout: number): Promise<void> {
    const { host, port, identity } = this.#o
    let con: LineSocket
    try {
      con = await connectLine({ host, port, signal, timeout, maxLineLength: MAX_CONTROL_LINE })
    } catch (err) {
      throw CircuitError.CONNECT_FAILED(host, port, err)
    }
    try {
      const next = async (): Promise<ReturnType<typeof parseServerLine>> => {
        for (;;) {
          const m = parseServerLine(await con.readLine({ signal }))
          if (m.type === 'ERROR') throw m.error
          if (m.type !== 'HELLO') return m
        }
      }
      con.sendLine(formatReserve(identity.nodeId))
      const ch = await next()
      if (ch.type !== 'CHALLENGE') throw CircuitError.PROTOCOL(`expected CHALLENGE, got ${ch.type}`)
      const sig = identity.sign(RESERVE_CONTEXT, [ch.nonce, identity.nodeId]).toString('base64url')
      con.sendLine(formatProve(identity.publicKey, sig))
      const ok = await next()
      if (ok.type !== 'RESERVED') throw CircuitError.PROTOCOL(`expected RESERVED, got ${ok.type}`)
      this.#limits = { maxBytes: ok.maxBytes, maxDurationMs: ok.maxDurationMs }
    } catch (err) {
      con.close()
      if (this.#closing.signal.aborted) throw CircuitError.CLOSED()
      if (err instanceof CircuitError) throw err
      throw CircuitError.CONNECT_FAILED(host, port, err)
    }
    this.#con = con
    this.#delay = this.#o.reconnectMinDelay ?? RECONNECT_MIN_MS
    con.on('line', (l) => this.#onLine(l))
    con.on('close', (info) => this.#onDrop(info.error ?? CircuitError.RELAY_CLOSED('the reservation')))
    this.#startPing(con)
    this.#setState('reserved')
    this.emit('reserved', { limits: this.#limits })
    log('reserved at %s:%d as %s', host, port, identity.nodeId)
  }

  #startPing(con: LineSocket): void {
    let outstanding: string | undefined
    let n = 0
    clearInterval(this.#ping)
    this.#ping = setInterval(() => {
      if (outstanding !== undefined) {
        con.close() // the relay did not answer: drop and reserve again
        return
      }
      outstanding = `p${++n}`
      con.sendLine(formatPing(outstanding))
    }, this.#o.keepAlive ?? RESERVATION_KEEPALIVE_MS)
    this.#ping.unref()
    con.on('line', (l) => {
      if (l.startsWith('CIRCUIT PONG ')) outstanding = undefined
    })
  }

  #onLine(line: string): void {
    let m: ReturnType<typeof parseServerLine>
    try {
      m = parseServerLine(line)
    } catch (err) {
      this.emit('warning', err as Error)
      return
    }
    if (m.type === 'INCOMING') this.#accept(m.circuitId, m.dialler, m.diallerIp)
    else if (m.type === 'END') this.emit('end', { circuitId: m.circuitId, reason: m.reason })
    else if (m.type === 'ERROR') this.emit('warning', m.error)
  }

  #accept(circuitId: string, dialler: string, diallerIp: string): void {
    const timeout = this.#o.timeout ?? DIAL_TIMEOUT_MS
    acceptCircuit(this.relay, circuitId, { signal: this.#closing.signal, timeout }).then(
      (c) => {
        if (this.listenerCount('incoming') === 0) c.socket.destroy()
        else this.emit('incoming', { ...c, dialler, diallerIp })
      },
      (err: unknown) => this.emit('warning', err as Error),
    )
  }

  #onDrop(error: Error): void {
    clearInterval(this.#ping)
    this.#con = undefined
    if (this.#state === 'closed') return
    log('reservation at %s:%d dropped: %s', this.relay.host, this.relay.port, error.message)
    this.emit('disconnected', { error })
    if (this.#o.reconnect === false) {
      this.close()
      return
    }
    this.#backOff()
  }

  #backOff(): void {
    this.#setState('backing-off')
    // A `state` listener may have closed us: no retry then.
    if (this.#state === 'closed') return
    const wait = this.#delay * (1 + Math.random() * 0.2)
    this.#delay = Math.min(this.#delay * 2, this.#o.reconnectMaxDelay ?? RECONNECT_MAX_MS)
    this.#retry = setTimeout(() => {
      if (this.#state === 'closed') return
      this.#setState('connecting')
      this.#reserve().catch((err: unknown) => {
        if (this.#state === 'closed') return
        this.emit('warning', err as Error)
        this.#backOff()
      })
    }, wait)
    this.#retry.unref()
  }

  #setState(s: ReservationState): void {
    if (this.#state === s) return
    this.#state = s
    this.emit('state', s)
  }
}
