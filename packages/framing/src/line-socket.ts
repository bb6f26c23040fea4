import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import type { CloseInfo, CloseReason } from './close-info.js'
import { FramingError } from './errors.js'
import { Heartbeat } from './heartbeat.js'
import { LineDecoder } from './line-decoder.js'
import { LineInbox } from './line-inbox.js'
import { LineSender } from './line-sender.js'
import { checkInt, type LineSocketOptions, type ReadLineOptions, resolveLimits } from './options.js'

const log = createDebug('pyp2p:framing')

export interface LineSocketEvents {
  line: [line: string]
  close: [info: CloseInfo]
}

/**
 * A TCP connection carrying newline-terminated text messages: the original pyp2p `Sock`.
 * Lines are delivered exactly once, in order: to the oldest pending `readLine()`/`for await`, else to
 * `line` listeners, else into a bounded queue read by `for (const line of con)`. Never emits `error`:
 * every failure ends the connection and is reported by the `close` event and `closed`.
 */
export class LineSocket
  extends EventEmitter<LineSocketEvents>
  implements Iterable<string>, AsyncIterable<string>
{
  /**
   * The underlying TCP socket (addresses, keep-alive). Write to it directly only before any
   * `sendLine()`, and never when the lines travel over another `stream` (an encrypted session).
   */
  readonly socket: Socket
  /** What the lines are read from and written to: the `stream` option, else `socket`. */
  readonly #io: Duplex
  /** Resolves (never rejects) once the socket is fully closed, with why. */
  readonly closed: Promise<CloseInfo>
  readonly #decoder: LineDecoder
  readonly #inbox: LineInbox
  readonly #sender: LineSender
  readonly #closeTimeout: number
  readonly #heartbeat: Heartbeat | undefined
  readonly #deliver: (line: string) => void
  readonly #now: () => number
  #lastReceived: number
  #resolveClosed!: (info: CloseInfo) => void
  #closeInfo: CloseInfo | undefined
  #finished = false
  #lingerTimer: NodeJS.Timeout | undefined

  constructor(socket: Socket, options: LineSocketOptions = {}) {
    super()
    this.socket = socket
    const io: Duplex = options.stream ?? socket
    this.#io = io
    const limits = resolveLimits(options)
    this.#decoder = new LineDecoder({ maxLineLength: limits.maxLineLength })
    this.#sender = new LineSender(io, limits, {
      closeInfo: () => this.#closeInfo,
      fail: (error) => this.#fail('limit', error),
    })
    this.#inbox = new LineInbox(
      {
        emit: (line) => this.emit('line', line),
        hasListeners: () => this.listenerCount('line') > 0,
        pause: () => {
          log('receive queue full: socket paused')
          io.pause()
        },
        resume: () => io.resume(),
      },
      limits.maxQueuedLines,
      limits.maxQueuedChars,
    )
    this.#closeTimeout = limits.closeTimeout
    const hb = options.heartbeat
    this.#heartbeat =
      hb === undefined
        ? undefined
        : new Heartbeat(hb, {
            send: (line) => this.#sender.send(line),
            fail: (error) => this.#fail('error', error),
          })
    const beat = this.#heartbeat
    this.#deliver =
      beat === undefined
        ? this.#inbox.deliver
        : (line) => {
            if (!beat.consume(line)) this.#inbox.deliver(line)
          }
    this.#now = hb?.now ?? Date.now
    this.#lastReceived = this.#now()
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    // Lines queued before a `line` listener exists go to it first, keeping the order.
    EventEmitter.prototype.on.call(this, 'newListener', this.#onNewListener)
    io.on('data', this.#onData)
    io.on('end', this.#onEnd)
    io.on('error', this.#onError)
    io.on('close', this.#onClose)
    if (io.closed) {
      process.nextTick(() => this.#onClose(false))
      return
    }
    if (!socket.destroyed) {
      if (limits.keepAlive) socket.setKeepAlive(true, limits.keepAliveInitialDelay)
      if (limits.noDelay) socket.setNoDelay(true)
    }
    if (options.head !== undefined && options.head.length > 0) this.#onData(options.head)
  }

  /** `true` until the connection closes or `close()` is called. */
  get isOpen(): boolean {
    return this.#closeInfo === undefined && !this.#io.destroyed
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress
  }
  get localPort(): number | undefined {
    return this.socket.localPort
  }
  /**
   * When bytes last arrived from the peer (or the LineSocket was made), ms on `Date.now()`'s scale (the
   * heartbeat's clock when one is given): how long a connection has been silent.
   */
  get lastReceived(): number {
    return this.#lastReceived
  }

  /** Why the connection closed (as `closed` resolves with), once it has; undefined while open. */
  get closeInfo(): CloseInfo | undefined {
    return this.#finished ? this.#closeInfo : undefined
  }

  /** Whole lines received and not read yet. */
  get queuedLines(): number {
    return this.#inbox.length
  }

  /**
   * Sends `text` followed by `\r\n`. Returns `false` when the send buffer is above its high-water mark:
   * wait for `drain()` before sending more. Throws `ERR_INVALID_LINE` (text contains `\r`/`\n`),
   * `ERR_LINE_TOO_LONG`, `ERR_CONNECTION_CLOSED`, or `ERR_SEND_BUFFER_FULL` (the connection then closes).
   */
  sendLine(text: string): boolean {
    return this.#sender.send(text)
  }

  /**
   * Sends several lines in one write, as `sendLine()` each would (same errors, same return value); if
   * one of them is invalid or too long it throws before any of them is sent.
   */
  sendLines(texts: readonly string[]): boolean {
    return this.#sender.sendMany(texts)
  }

  /** Resolves when the send buffer is below its high-water mark; rejects if the connection closes. */
  drain(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#sender.drain(options.signal)
  }

  /** The next whole line (the original's `recv_line`). Rejects with `ERR_CONNECTION_CLOSED` at the end. */
  async readLine(options: ReadLineOptions = {}): Promise<string> {
    const { signal, timeout } = options
    if (timeout !== undefined) checkInt('timeout', timeout, 0)
    const line = await this.#inbox.next(signal, timeout)
    if (line === undefined) throw FramingError.CONNECTION_CLOSED(this.#closeInfo?.error)
    return line
  }

  /** Yields the lines that have already arrived whole, then returns at once (never waits). */
  *[Symbol.iterator](): Iterator<string> {
    for (let line = this.#inbox.shift(); line !== undefined; line = this.#inbox.shift()) yield line
  }

  /** Yields every line as it arrives; ends (without throwing) when the connection closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const line = this.#inbox.shift() ?? (this.#inbox.ended ? undefined : await this.#inbox.next())
      if (line === undefined) return
      yield line
    }
  }

  /**
   * Closes the connection: unread lines are dropped, output already queued is sent (for at most
   * `closeTimeout` ms), then the socket is destroyed. Idempotent; `closed` says when it is done.
   */
  close(): void {
    if (this.#closeInfo !== undefined) return
    this.#closeInfo = { reason: 'local' }
    log('close (local)')
    this.#inbox.clear()
    this.#shutdown()
    const io = this.#io
    if (io.destroyed) return
    if (io.writableFinished) {
      io.destroy() // our side was already ended (the peer closed first)
      return
    }
    this.#lingerTimer = setTimeout(() => io.destroy(), this.#closeTimeout)
    this.#lingerTimer.unref()
    io.once('finish', () => io.destroy())
    io.end()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close()
    await this.closed
  }

  #onNewListener = (event: string | symbol): void => {
    if (event === 'line' && this.#inbox.length > 0) process.nextTick(this.#inbox.flush)
  }

  /** As `EventEmitter#removeAllListeners`, keeping the internal hook that hands queued lines to new listeners. */
  override removeAllListeners(
    ...args: Parameters<EventEmitter<LineSocketEvents>['removeAllListeners']>
  ): this {
    super.removeAllListeners(...args)
    const hooks = EventEmitter.prototype.listeners.call(this, 'newListener')
    if (!hooks.includes(this.#onNewListener))
      EventEmitter.prototype.on.call(this, 'newListener', this.#onNewListener)
    return this
  }

  #onData = (chunk: Uint8Array | string): void => {
    if (this.#inbox.ended) return
    this.#lastReceived = this.#now()
    this.#heartbeat?.heard()
    try {
      this.#decoder.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, this.#deliver)
    } catch (err) {
      const limit = this.#decoder.error
      if (limit !== undefined && err === limit) {
        this.#fail('limit', limit)
        return
      }
      // A `line` listener threw: the rest of the chunk is lost, so the stream can't be trusted any
      // more. End the connection (reason `error`) and let the exception propagate as from any emitter.
      this.#fail('error', err instanceof Error ? err : new Error(String(err), { cause: err }))
      throw err
    }
  }

  #onEnd = (): void => {
    const dropped = this.#decoder.pendingBytes
    log(
      'peer ended the connection%s',
      dropped > 0 ? ` (dropping ${dropped} bytes of an unfinished line)` : '',
    )
    this.#inbox.end()
    // A server made with allowHalfOpen would leave our side open; a line connection ends with its peer.
    if (this.#io.allowHalfOpen && this.#io.writable) this.#io.end()
  }

  #onError = (error: Error): void => {
    log('socket error: %s', error.message)
    this.#closeInfo ??= { reason: 'error', error }
  }

  #onClose = (hadError: boolean): void => {
    clearTimeout(this.#lingerTimer)
    this.#closeInfo ??= hadError
      ? { reason: 'error', error: FramingError.CONNECTION_CLOSED() }
      : { reason: 'peer' }
    this.#shutdown()
    if (this.#finished) return
    this.#finished = true
    const info = this.#closeInfo
    log('closed: %s', info.reason)
    this.#resolveClosed(info)
    this.emit('close', info)
  }

  #fail(reason: CloseReason, error: Error): void {
    if (this.#closeInfo !== undefined) return
    log('failing connection (%s): %s', reason, error.message)
    this.#closeInfo = { reason, error }
    this.#shutdown()
    this.#io.destroy()
  }

  // No more lines will arrive (queued ones stay readable, unless close() dropped them); waits fail.
  #shutdown(): void {
    this.#heartbeat?.stop()
    this.#inbox.end()
    this.#sender.shutdown()
  }
}
