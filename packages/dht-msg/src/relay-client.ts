/**
 * The relay client: keeps one authenticated connection to the relay (reconnecting with backoff after a
 * drop), sends messages to node ids and receives the ones addressed to it.
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import type { CloseInfo, LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import {
  CONNECT_TIMEOUT_MS,
  KEEPALIVE_MS,
  MAX_INBOX,
  MAX_MESSAGE_BYTES,
  MAX_OUTGOING_QUEUE,
  MAX_RELAY_LINE_LENGTH,
  MESSAGE_TTL_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  SEEN_IDS,
} from './constants.js'
import { RelayError } from './errors.js'
import { isNodeId, NodeIdentity } from './identity.js'
import { Inbox, SeenIds } from './inbox.js'
import { type Outgoing, OutgoingQueue } from './outgoing-queue.js'
import { decodePayload, encodePayload, parseServerLine, type ServerLine } from './protocol.js'
import type { RelayClientEvents, RelayClientOptions } from './relay-client-options.js'
import { openRelaySession } from './relay-handshake.js'
import type { MessageTransport, TransportMessage } from './transport.js'

const log = createDebug('pyp2p:dht-msg')

export class RelayClient
  extends EventEmitter<RelayClientEvents>
  implements MessageTransport, AsyncIterable<TransportMessage>
{
  readonly identity: NodeIdentity
  readonly #host: string
  readonly #port: number
  readonly #localAddress: string | undefined
  readonly #maxMessageBytes: number
  readonly #connectTimeout: number
  readonly #keepAlive: number
  readonly #reconnect: boolean
  readonly #minDelay: number
  readonly #maxDelay: number
  readonly #maxLineLength: number
  readonly #outgoing: OutgoingQueue
  readonly #inbox: Inbox
  readonly #seen = new SeenIds(SEEN_IDS)
  readonly #closing = new AbortController()
  #con: LineSocket | undefined
  #observed: { address: string; port: number } | undefined
  #started = false
  #closed = false

  /** Create and connect; rejects (ERR_CONNECT_FAILED, ERR_AUTH_FAILED, ...) if the first attempt fails. */
  static async connect(options: RelayClientOptions & { signal?: AbortSignal }): Promise<RelayClient> {
    const client = new RelayClient(options)
    await client.start(options.signal === undefined ? {} : { signal: options.signal })
    return client
  }

  constructor(options: RelayClientOptions) {
    super()
    this.identity = options.identity ?? NodeIdentity.generate()
    this.#host = options.host
    this.#port = options.port
    this.#localAddress = options.localAddress
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.#connectTimeout = options.connectTimeout ?? CONNECT_TIMEOUT_MS
    this.#keepAlive = options.keepAlive ?? KEEPALIVE_MS
    this.#reconnect = options.reconnect ?? true
    this.#minDelay = options.reconnectMinDelay ?? RECONNECT_MIN_MS
    this.#maxDelay = options.reconnectMaxDelay ?? RECONNECT_MAX_MS
    this.#maxLineLength = options.maxLineLength ?? MAX_RELAY_LINE_LENGTH
    this.#outgoing = new OutgoingQueue(
      options.maxOutgoing ?? MAX_OUTGOING_QUEUE,
      options.messageTtl ?? MESSAGE_TTL_MS,
    )
    this.#inbox = new Inbox(options.maxInbox ?? MAX_INBOX)
    // Messages that waited for a listener go to the first one attached, in order.
    EventEmitter.prototype.on.call(this, 'newListener', (event: string | symbol) => {
      if (event === 'message') process.nextTick(() => this.#flushInbox())
    })
  }

  get nodeId(): string {
    return this.identity.nodeId
  }

  /** Whether a relay connection is up and authenticated now. */
  get isConnected(): boolean {
    return this.#con?.isOpen === true
  }

  /** Our address and port as the relay last saw them. */
  get observedAddress(): { address: string; port: number } | undefined {
    return this.#observed
  }

  /** Messages waiting for the relay's answer. */
  get pendingSends(): number {
    return this.#outgoing.size
  }

  /** Open the first connection; after that the client reconnects by itself. */
  async start(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#closed) throw RelayError.CLOSED()
    if (this.#started) throw new Error('RelayClient.start() was already called')
    this.#started = true
    try {
      this.#attach(await this.#open(options.signal))
    } catch (err) {
      await this.close()
      throw err
    }
  }

  /**
   * Send `message` to `to`. Resolves when the relay has queued it; rejects with a RelayError
   * (ERR_MESSAGE_TOO_LARGE, ERR_QUEUE_FULL, ERR_RATE_LIMITED, ERR_EXPIRED, ...). While the connection
   * is down the message waits in the outgoing queue and goes out after the reconnect.
   */
  send(to: string, message: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options
    if (this.#closed) return Promise.reject(RelayError.CLOSED())
    if (!isNodeId(to)) return Promise.reject(RelayError.INVALID_NODE_ID(String(to)))
    if (typeof message !== 'string' || message.length === 0) {
      return Promise.reject(RelayError.INVALID_MESSAGE('expected a non-empty string'))
    }
    const size = Buffer.byteLength(message, 'utf8')
    if (size > this.#maxMessageBytes)
      return Promise.reject(RelayError.MESSAGE_TOO_LARGE(size, this.#maxMessageBytes))
    if (signal?.aborted) return Promise.reject(RelayError.ABORTED(signal.reason))
    const id = randomBytes(12).toString('base64url')
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#outgoing.settle(id, RelayError.ABORTED(signal?.reason))
      }
      const entry: Outgoing = {
        id,
        to,
        payload: encodePayload(message),
        queuedAt: Date.now(),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort)
          reject(err)
        },
      }
      try {
        this.#outgoing.add(entry)
      } catch (err) {
        reject(err)
        return
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      if (this.#con?.isOpen) this.#write(this.#con, `SEND ${id} ${to} ${entry.payload}`)
    })
  }

  /** MessageTransport: call `handler` for each message; returns the unsubscribe function. */
  subscribe(handler: (message: TransportMessage) => void): () => void {
    this.on('message', handler)
    return () => this.off('message', handler)
  }

  /**
   * The messages addressed to us, as they arrive; ends when the client closes or `signal` fires.
   * Each message goes to exactly one reader: a waiting iterator, else the 'message' listeners, else the
   * inbox (read by the next iterator or the first listener attached).
   */
  async *messages(options: { signal?: AbortSignal } = {}): AsyncGenerator<TransportMessage> {
    for (;;) {
      const m = await this.#inbox.next(options.signal)
      if (m === undefined) return
      yield m
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<TransportMessage> {
    return this.messages()
  }

  /** Close the connection and stop reconnecting; pending sends reject with ERR_CLOSED. Idempotent. */
  async close(): Promise<void> {
    await this.#shutdown()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #shutdown(error?: RelayError): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#closing.abort()
    this.#outgoing.rejectAll(error ?? RelayError.CLOSED())
    this.#inbox.end()
    const con = this.#con
    if (con !== undefined) {
      if (con.isOpen) this.#write(con, 'QUIT')
      con.close()
      await con.closed
    }
    this.emit('close', error === undefined ? {} : { error })
  }

  async #open(signal?: AbortSignal): Promise<LineSocket> {
    const { con, observed } = await openRelaySession({
      host: this.#host,
      port: this.#port,
      localAddress: this.#localAddress,
      identity: this.identity,
      timeout: this.#connectTimeout,
      maxLineLength: this.#maxLineLength,
      closing: this.#closing.signal,
      signal,
    })
    this.#observed = observed
    return con
  }

  #attach(con: LineSocket): void {
    if (this.#closed) {
      con.close()
      return
    }
    this.#con = con
    let awaitingPong = false
    con.on('line', (line) => {
      awaitingPong = false
      this.#onLine(con, line)
    })
    const keepAlive = setInterval(() => {
      if (awaitingPong) {
        log('no PONG within %d ms: dropping the connection', this.#keepAlive)
        con.socket.destroy()
        return
      }
      awaitingPong = true
      this.#write(con, `PING ${randomBytes(6).toString('base64url')}`)
    }, this.#keepAlive)
    keepAlive.unref()
    con.once('close', (info) => {
      clearInterval(keepAlive)
      this.#onClose(con, info)
    })
    log('connected to relay %s:%d as %s', this.#host, this.#port, this.nodeId)
    this.emit('connected', { ...this.#observed! })
    for (const e of this.#outgoing.live(Date.now())) this.#write(con, `SEND ${e.id} ${e.to} ${e.payload}`)
  }

  #onClose(con: LineSocket, info: CloseInfo): void {
    if (this.#con === con) this.#con = undefined
    if (this.#closed) return
    const reconnecting = this.#reconnect
    log('relay connection closed (%s)%s', info.reason, reconnecting ? ': reconnecting' : '')
    this.emit('disconnected', info.error ? { error: info.error, reconnecting } : { reconnecting })
    if (reconnecting) void this.#reconnectLoop()
    else
      void this.#shutdown(
        RelayError.CONNECT_FAILED(info.error ?? new Error('the relay closed the connection')),
      )
  }

  async #reconnectLoop(): Promise<void> {
    for (let wait = this.#minDelay; !this.#closed; wait = Math.min(wait * 2, this.#maxDelay)) {
      try {
        await delay(wait * (1 + Math.random() * 0.2), undefined, { signal: this.#closing.signal })
      } catch {
        return // closed while waiting
      }
      this.#outgoing.live(Date.now()) // expire what waited too long
      try {
        this.#attach(await this.#open())
        return
      } catch (err) {
        if (this.#closed) return
        log('reconnect failed: %s', (err as Error).message)
        this.emit('disconnected', { error: err as Error, reconnecting: true })
      }
    }
  }

  #onLine(con: LineSocket, line: string): void {
    let msg: ServerLine
    try {
      msg = parseServerLine(line)
    } catch (err) {
      log('ignoring a line from the relay: %s', (err as Error).message)
      this.#warn(err as RelayError)
      return
    }
    switch (msg.type) {
      case 'SENT':
        this.#outgoing.settle(msg.id)
        return
      case 'FAIL':
        this.#outgoing.settle(msg.id, RelayError.fromWire(msg.code, msg.text))
        return
      case 'MSG':
        this.#onMessage(con, msg)
        return
      case 'ERROR': {
        const err = RelayError.fromWire(msg.code, msg.text)
        if (err.code === 'ERR_REPLACED') {
          void this.#shutdown(err)
          return
        }
        this.#warn(err)
        return
      }
      default:
        return // PONG (handled by the keep-alive), or handshake lines out of place
    }
  }

  #onMessage(con: LineSocket, m: Extract<ServerLine, { type: 'MSG' }>): void {
    const key = `${m.from}/${m.id}`
    if (!this.#seen.has(key)) {
      const message: TransportMessage = {
        from: m.from,
        id: m.id,
        message: decodePayload(m.payload),
        fromAddress: m.fromAddress,
      }
      if (this.#inbox.hasWaiters || this.listenerCount('message') === 0) {
        // A full inbox leaves the message on the relay (no ACK): it comes again after a reconnect.
        if (!this.#inbox.push(message)) return
      } else {
        this.emit('message', message)
      }
      this.#seen.add(key)
    }
    this.#write(con, `ACK ${m.from} ${m.id}`)
  }

  #flushInbox(): void {
    while (this.#inbox.size > 0 && this.listenerCount('message') > 0) {
      const m = this.#inbox.shift()
      if (m !== undefined) this.emit('message', m)
    }
  }

  #warn(err: RelayError): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', err)
  }

  #write(con: LineSocket, line: string): void {
    try {
      con.sendLine(line)
    } catch (err) {
      log('write to the relay failed: %s', (err as Error).message) // the close handler reconnects
    }
  }
}
