/**
 * Per-connection state, kept small on purpose: at 19,000 connections every 100 bytes here are 1.9 MB.
 * A connection is a plain `net.Socket` plus, while a line is unfinished, @pyp2p/framing's `LineDecoder`
 * (the same splitting and line-length rule as `LineSocket`) and a few fields; the socket's listeners are
 * functions shared by all connections (see socket-listeners.ts), and there are no per-connection timers
 * or promises. `LineSocket`
 * costs about 2 KB of heap per connection on top of this (measured; see the package README), which alone
 * is the whole memory budget per node at 19,000 nodes.
 *
 * This file knows nothing of punches or nodes (the tables point at connections, never the reverse), so
 * the import graph stays a tree.
 */
import type { Socket } from 'node:net'
import type { LineDecoder } from '@pyp2p/framing'
import { type NetworkKeys, type RateLimit, TokenBucket } from '@pyp2p/limits'
import { formatError, LINE_TERMINATOR } from '@pyp2p/rendezvous-protocol'
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

/**
 * A client connection. It _is_ its own flood-control bucket (`@pyp2p/limits`' `TokenBucket`, two
 * numbers): inheriting keeps those two numbers inside this object, where a `bucket` field would add an
 * object per connection (31 bytes more per connection: 200,000 objects of each shape measured on Node 20).
 */
export class Connection extends TokenBucket implements ServiceConnection {
  readonly id: number
  readonly ip: string
  /**
   * Where the limits count this connection (its IP and network prefix, @pyp2p/limits), computed once at
   * accept: the node table counts its registrations with the same object, and `ip` is its `address`
   * string when the two are spelled alike (one string and one keys object per connection, not three).
   */
  readonly keys: NetworkKeys
  readonly port: number
  readonly socket: Socket
  /**
   * The decoder holding this connection's unfinished line, only while there is one (the listener splits
   * chunks that end a line with a decoder shared by all connections): an idle connection keeps none.
   */
  decoder: LineDecoder | undefined = undefined
  readonly host: ConnectionHost
  /** When the last complete line arrived, or when closing started (ms, on the server's clock). */
  lastSeen: number
  /**
   * The node id the last valid proof on this connection proved (PROTOCOL.md, "Proven connections"):
   * later commands of this connection acting as it count as proven without a signature. The key's
   * holder is at the other end of this TCP connection, which an off-path attacker cannot write into.
   */
  provenId: string | undefined = undefined
  /** Node ids this connection registered (usually none or one). */
  nodes: string[] | undefined = undefined
  /** How many of those are simultaneous registrations (they keep the connection exempt from idling). */
  simultaneous = 0
  /** Pending punches this connection takes part in, as candidate or target (kept by the punch table). */
  punchCount = 0
  /** Punches this connection started as candidate (bounded per connection). */
  started = 0
  /** Smoothed round-trip time in ms; 0 = not measured yet. */
  rtt = 0
  pingToken: string | undefined = undefined
  /** When the outstanding PING left (`performance.now()`: a measurement of real time, not a timeout). */
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
    keys: NetworkKeys,
    port: number,
    socket: Socket,
    host: ConnectionHost,
    now: number,
    lineLimit: RateLimit,
  ) {
    super(lineLimit, now)
    this.id = id
    this.ip = keys.address === ip ? keys.address : ip
    this.keys = keys
    this.port = port
    this.socket = socket
    this.host = host
    this.lastSeen = now
  }

  get isOpen(): boolean {
    return !this.closing && !this.socket.destroyed
  }

  /** True while the idle timeout does not apply. */
  get exempt(): boolean {
    return this.simultaneous > 0 || this.punchCount > 0 || this.held
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

  /**
   * Hands the raw socket to someone else (the circuit relay): from here on this connection reads and
   * sends nothing. It leaves the idle list (held: no idle timeout), counts as closing (no more lines, no
   * flood limit, no PING; its unfinished line and deferred lines are dropped) and the socket comes back
   * paused, without the 'data' listener `attachConnection` installed (the only one on it). It has no
   * timers of its own to stop. It keeps its slot in the listener's connection table (the socket still
   * counts against its IP's and prefix's limits) until the socket closes: the 'close' listener stays,
   * and the listener forgets it then as usual.
   */
  detach(): Socket {
    this.hold(true)
    this.closing = true
    this.decoder = undefined
    this.deferred = undefined
    this.pingToken = undefined
    this.socket.pause()
    this.socket.removeAllListeners('data')
    return this.socket
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
