/**
 * Per-connection state, kept small on purpose: at 19,000 connections every 100 bytes here are 1.9 MB.
 * A connection is a plain `net.Socket` plus @pyp2p/framing's `LineDecoder` (the same splitting and
 * line-length rule as `LineSocket`) and a few fields; the socket's listeners are functions shared by all
 * connections (see server.ts), and there are no per-connection timers or promises. `LineSocket` costs
 * about 2 KB of heap per connection on top of this (measured; see the package README), which alone is
 * the whole memory budget per node at 19,000 nodes.
 */
import type { Socket } from 'node:net'
import type { LineDecoder } from '@pyp2p/framing'
import { formatError, LINE_TERMINATOR } from '@pyp2p/rendezvous-protocol'
import type { Punch } from './punch-table.js'
import type { ServiceConnection } from './service.js'

export interface ConnectionHost {
  /** The connection's hold state or punches changed: move it in or out of the idle list. */
  refreshIdle(conn: Connection): void
  /** The connection started closing: the sweep destroys it if the peer does not take its last bytes. */
  closing(conn: Connection): void
  readonly maxSendBuffer: number
  /** Bytes arrived on the connection's socket. */
  onData(conn: Connection, chunk: Buffer): void
  /** The connection's socket closed. */
  onClose(conn: Connection): void
}

export class Connection implements ServiceConnection {
  readonly id: number
  readonly ip: string
  readonly port: number
  readonly socket: Socket
  readonly decoder: LineDecoder
  readonly host: ConnectionHost
  /** When the last complete line arrived, or when closing started (ms, `Date.now()`). */
  lastSeen: number
  /** Token bucket for flood control. */
  tokens: number
  tokensAt: number
  /** Node ids this connection registered (usually none or one). */
  nodes: string[] | undefined = undefined
  /** How many of those are simultaneous registrations (they keep the connection exempt from idling). */
  simultaneous = 0
  /** Punches this connection takes part in, as candidate or target. */
  punches: Set<Punch> | undefined = undefined
  /** Punches this connection started as candidate (bounded per connection). */
  started = 0
  /** Smoothed round-trip time in ms; 0 = not measured yet. */
  rtt = 0
  pingToken: string | undefined = undefined
  pingAt = 0
  held = false
  closing = false
  /**
   * Lines received while a `CHECK` of this connection runs: handled once its reply is out, so every
   * reply stays in order. The socket is paused meanwhile, so these are at most one read's worth.
   */
  deferred: string[] | undefined = undefined

  constructor(
    id: number,
    ip: string,
    port: number,
    socket: Socket,
    decoder: LineDecoder,
    host: ConnectionHost,
    now: number,
    burst: number,
  ) {
    this.id = id
    this.ip = ip
    this.port = port
    this.socket = socket
    this.decoder = decoder
    this.host = host
    this.lastSeen = now
    this.tokens = burst
    this.tokensAt = now
  }

  get isOpen(): boolean {
    return !this.closing && !this.socket.destroyed
  }

  /** True while the idle timeout does not apply. */
  get exempt(): boolean {
    return this.simultaneous > 0 || (this.punches !== undefined && this.punches.size > 0) || this.held
  }

  /**
   * Sends one line. A client that lets more than `maxSendBuffer` bytes pile up unread is cut off (as
   * framing's `ERR_SEND_BUFFER_FULL`). Returns whether the line was queued.
   */
  send(line: string): boolean {
    if (!this.isOpen) return false
    if (this.socket.writableLength + line.length > this.host.maxSendBuffer) {
      this.closing = true
      this.socket.destroy()
      return false
    }
    this.socket.write(line + LINE_TERMINATOR)
    return true
  }

  sendError(code: string, text: string, punchId?: string): void {
    this.send(formatError(code, text, punchId))
  }

  /** Sends `ERROR <code> <text>` if given, then ends the connection once the output is flushed. */
  close(code?: string, text?: string): void {
    if (this.closing) return
    if (code !== undefined) this.sendError(code, text ?? '')
    this.closing = true
    if (this.socket.destroyed) return
    this.socket.once('finish', destroyThis)
    this.socket.end()
    this.host.closing(this)
  }

  hold(held: boolean): void {
    this.held = held
    this.host.refreshIdle(this)
  }

  /** Takes one token; false when the connection is over its line rate. */
  takeToken(now: number, rate: number, burst: number): boolean {
    const elapsed = now - this.tokensAt
    if (elapsed > 0) {
      this.tokens = Math.min(burst, this.tokens + (elapsed * rate) / 1000)
      this.tokensAt = now
    }
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Folds one RTT sample into the smoothed RTT. */
  addRttSample(sample: number, weight: number): void {
    this.rtt = this.rtt === 0 ? Math.max(sample, 0.001) : this.rtt + weight * (sample - this.rtt)
  }
}

/** Shared 'finish' listener: our side is flushed and ended; release the socket. */
function destroyThis(this: Socket): void {
  this.destroy()
}
