/**
 * `CircuitRelay`: the relay server's state machine, independent of who accepts the sockets. A node
 * that cannot be reached holds a reservation (RESERVE → CHALLENGE → PROVE → RESERVED on a control
 * connection that stays open); a dialler's connection says `CONNECT <target> <dialler>`; the relay tells
 * the target `INCOMING <circuit-id> ...` over its reservation; the target opens a new connection
 * `ACCEPT <circuit-id>`; both get `OK <circuit-id> <max-bytes> <max-duration-ms>` and their sockets are
 * spliced (splice.ts). Hosted by bootstrap-server (`service()`) or standalone (`listen()`, listener.ts).
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { FairTable } from '@pyp2p/limits'
import createDebug from 'debug'
import { CIRCUIT_ID_BYTES, CIRCUIT_PROTOCOL, CIRCUIT_WORD } from './constants.js'
import { CircuitError } from './errors.js'
import { ipTable, keysOf } from './ip-table.js'
import {
  type CircuitLimits,
  type EndReason,
  formatChallenge,
  formatEnd,
  formatError,
  formatIncoming,
  formatOk,
  formatPong,
  formatReserved,
  parseClientLine,
} from './protocol.js'
import { type CircuitRelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './relay-options.js'
import type { CircuitRelayEvents, RelayStats, TakeOver } from './relay-types.js'
import { type ControlConnection, type Reservation, Reservations } from './reservations.js'
import { endWith, Splice } from './splice.js'

const log = createDebug('pyp2p:relay')

interface Circuit {
  readonly id: string
  readonly target: Reservation
  readonly dialler: string
  /** The dialler's IP (circuits per IP). */
  readonly ip: string
  readonly diallerSocket: Socket
  /** Our listeners on the dialler's socket while it waits (removed when spliced). */
  readonly waiting: { onClose(): void; onData(): void }
  /** When it was asked for, then when it was spliced (clock ms). */
  since: number
  splice?: Splice
}

export class CircuitRelay extends EventEmitter<CircuitRelayEvents> {
  readonly options: ResolvedRelayOptions
  readonly limits: CircuitLimits
  readonly #reservations: Reservations
  readonly #circuits = new Map<string, Circuit>()
  /** Circuits open or waiting, bounded in all and per dialler IP. */
  readonly #perIp: FairTable<Circuit>
  readonly #ended: Record<EndReason, number> = { bytes: 0, duration: 0, closed: 0, relay: 0 }
  readonly #refused: Record<string, number> = {}
  readonly #timer: NodeJS.Timeout | undefined
  #closed = false

  /** Throws `ERR_INVALID_OPTION` for a limit that is not a positive integer. */
  constructor(options: CircuitRelayOptions = {}) {
    super()
    this.options = resolveRelayOptions(options)
    this.limits = { maxBytes: this.options.maxCircuitBytes, maxDurationMs: this.options.maxCircuitDuration }
    this.#reservations = new Reservations(this.options)
    this.#perIp = ipTable(this.options.maxCircuits, this.options.maxCircuitsPerIp)
    if (this.options.sweepInterval > 0) {
      this.#timer = setInterval(() => this.sweep(), this.options.sweepInterval)
      this.#timer.unref()
    }
  }

  get stats(): RelayStats {
    let open = 0
    for (const c of this.#circuits.values()) if (c.splice !== undefined) open++
    return {
      reservations: this.#reservations.size,
      pending: this.#circuits.size - open,
      open,
      ended: { ...this.#ended },
      refused: { ...this.#refused },
    }
  }

  /** Whether `nodeId` holds a reservation here. */
  hasReservation(nodeId: string): boolean {
    return this.#reservations.get(nodeId) !== undefined
  }

  /**
   * One `CIRCUIT ...` line from `conn`. `takeOver` gives up the connection's raw socket: called for
   * `CONNECT` and `ACCEPT`, whose connection becomes one end of a circuit (the client sends nothing
   * after that line until it reads `OK`). Never throws: a bad line gets `ERROR <CODE> ...`.
   */
  handleLine(conn: ControlConnection, line: string, takeOver: TakeOver): void {
    try {
      const m = parseClientLine(line)
      const held = this.#reservations.of(conn)
      if (held !== undefined) held.lastSeen = this.options.clock.now()
      switch (m.type) {
        case 'RESERVE':
          conn.send(formatChallenge(this.#reservations.challenge(conn, m.nodeId)))
          return
        case 'PROVE':
          this.#prove(conn, m.publicKey, m.signature)
          return
        case 'PING':
          conn.send(formatPong(m.token))
          return
        case 'CONNECT':
        case 'ACCEPT':
          if (held !== undefined) throw CircuitError.PROTOCOL(`${m.type} on a reservation's connection`)
          if (this.#closed) throw CircuitError.RELAY_CLOSED('itself')
          if (m.type === 'CONNECT') this.#connect(takeOver(), conn.ip, m.target, m.dialler)
          else this.#accept(takeOver(), m.circuitId)
          return
      }
    } catch (err) {
      const e = err instanceof CircuitError ? err : CircuitError.PROTOCOL(String(err))
      this.#refuse(e)
      if (e.code === 'ERR_PROTOCOL') conn.send(formatError(e.code, e.message))
      else conn.close(e.code, e.message)
    }
  }

  /** The host's connection closed: its reservation (and the circuits waiting for it) go. */
  connectionClosed(conn: ControlConnection): void {
    const r = this.#reservations.remove(conn)
    if (r === undefined) return
    log('reservation of %s ended', r.nodeId)
    for (const c of this.#circuits.values()) {
      if (c.target === r && c.splice === undefined) this.#fail(c, CircuitError.NO_RESERVATION(r.nodeId))
    }
  }

  /** Ends circuits past their duration, pending ones past the accept timeout, stale reservations. */
  sweep(): void {
    const now = this.options.clock.now()
    for (const c of [...this.#circuits.values()]) {
      if (c.splice !== undefined) {
        if (now - c.since >= this.options.maxCircuitDuration) c.splice.end('duration')
      } else if (now - c.since >= this.options.acceptTimeout) {
        this.#fail(c, CircuitError.ACCEPT_TIMEOUT(this.options.acceptTimeout))
      }
    }
    for (const { conn, why } of [...this.#reservations.expired(now)]) {
      this.#reservations.remove(conn)
      conn.close('ERR_PROTOCOL', why)
    }
  }

  /** The shape bootstrap-server embeds (its `RendezvousService`), with its way to give up a socket. */
  service<C extends ControlConnection>(takeOver: (conn: C) => Socket) {
    return {
      name: 'circuit-relay',
      commands: [CIRCUIT_WORD] as const,
      helloExtensions: [CIRCUIT_PROTOCOL] as const,
      handleLine: (conn: C, line: string) => this.handleLine(conn, line, () => takeOver(conn)),
      connectionClosed: (conn: C) => this.connectionClosed(conn),
      close: () => this.close(),
    }
  }

  /** Ends every circuit (`relay`) and forgets every reservation. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) clearInterval(this.#timer)
    for (const c of [...this.#circuits.values()]) {
      if (c.splice !== undefined) c.splice.end('relay')
      else this.#fail(c, CircuitError.RELAY_CLOSED('the circuit: it is shutting down'))
    }
    for (const r of [...this.#reservations.all()]) {
      this.#reservations.remove(r.conn)
      r.conn.close('ERR_RELAY_CLOSED', 'the relay is shutting down')
    }
  }

  #prove(conn: ControlConnection, publicKey: string, signature: string): void {
    const { added, replaced } = this.#reservations.prove(conn, publicKey, signature)
    if (replaced !== undefined) {
      const e = CircuitError.REPLACED(added.nodeId)
      replaced.conn.close(e.code, e.message)
    }
    conn.hold?.(true)
    conn.send(formatReserved(added.nodeId, this.limits))
    log('%s reserved from %s', added.nodeId, conn.ip)
  }

  #connect(socket: Socket, ip: string, target: string, dialler: string): void {
    const o = this.options
    const r = this.#reservations.get(target)
    const keys = keysOf(this.#perIp, ip)
    let refusal: CircuitError | undefined
    if (r === undefined) refusal = CircuitError.NO_RESERVATION(target)
    else if (this.#perIp.size >= o.maxCircuits) refusal = CircuitError.RELAY_FULL('circuits', o.maxCircuits)
    else if (r.circuits >= o.maxCircuitsPerTarget)
      refusal = CircuitError.RELAY_FULL('circuits per target', o.maxCircuitsPerTarget)
    else if (!this.#perIp.admit(keys).ok)
      refusal = CircuitError.RELAY_FULL('circuits per IP', o.maxCircuitsPerIp)
    if (refusal !== undefined || r === undefined) {
      this.#refuse(refusal!)
      endWith(socket, refusal!)
      return
    }
    const id = randomBytes(CIRCUIT_ID_BYTES).toString('hex')
    // A dialler that leaves (or speaks) before its OK gives the circuit up.
    const waiting = {
      onClose: () => this.#forget(c),
      onData: () => this.#fail(c, CircuitError.PROTOCOL('data before OK')),
    }
    const since = o.clock.now()
    const c: Circuit = { id, target: r, dialler, ip, diallerSocket: socket, waiting, since }
    this.#circuits.set(id, c)
    r.circuits++
    this.#perIp.add(c, keys)
    socket.on('error', () => {})
    socket.once('close', waiting.onClose)
    socket.once('data', waiting.onData)
    socket.resume()
    r.conn.send(formatIncoming(id, dialler, ip))
    log('circuit %s: %s -> %s asked', id, dialler, target)
  }

  #accept(socket: Socket, id: string): void {
    const c = this.#circuits.get(id)
    if (c === undefined || c.splice !== undefined) {
      const e = CircuitError.UNKNOWN_CIRCUIT(id)
      this.#refuse(e)
      endWith(socket, e)
      return
    }
    const dialler = c.diallerSocket
    dialler.off('data', c.waiting.onData)
    dialler.off('close', c.waiting.onClose)
    socket.on('error', () => {})
    const ok = `${formatOk(id, this.limits)}\r\n`
    socket.write(ok)
    dialler.write(ok)
    c.since = this.options.clock.now()
    c.splice = new Splice(dialler, socket, {
      maxBytes: this.options.maxCircuitBytes,
      maxBuffer: this.options.maxCircuitBuffer,
      onPause: (buffered) => this.emit('backpressure', { id, buffered }),
      onEnd: (reason, bytes) => {
        this.#ended[reason]++
        this.emit('end', { id, reason, bytes })
        this.#forget(c)
        if (c.target.conn.isOpen) c.target.conn.send(formatEnd(id, reason))
        log('circuit %s ended (%s) after %d/%d bytes', id, reason, bytes[0], bytes[1])
      },
    })
    this.emit('circuit', { id, target: c.target.nodeId, dialler: c.dialler, sockets: [dialler, socket] })
    log('circuit %s open', id)
  }

  #fail(c: Circuit, e: CircuitError): void {
    this.#refuse(e)
    this.#forget(c)
    endWith(c.diallerSocket, e)
  }

  #forget(c: Circuit): void {
    if (!this.#circuits.delete(c.id)) return
    c.target.circuits--
    this.#perIp.delete(c)
  }

  #refuse(e: CircuitError): void {
    this.#refused[e.code] = (this.#refused[e.code] ?? 0) + 1
    log('refused: %s', e.message)
  }
}
