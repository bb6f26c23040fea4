/**
 * The relay client: sends messages to node ids and receives the ones addressed to it, over the
 * connection that relay-connection.ts keeps open (reconnecting with backoff after a drop).
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import { isNodeId, NodeIdentity } from '@pyp2p/identity'
import { type Clock, systemClock } from '@pyp2p/limits'
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
import { Incoming } from './incoming.js'
import { type Outgoing, OutgoingQueue } from './outgoing-queue.js'
import { decodePayload, encodePayload, parseServerLine, type ServerLine } from './protocol.js'
import type { RelayClientEvents, RelayClientOptions } from './relay-client-options.js'
import { RelayConnection, write } from './relay-connection.js'
import type { MessageTransport, TransportMessage } from './transport.js'

const log = createDebug('pyp2p:dht-msg')

export class RelayClient
  extends EventEmitter<RelayClientEvents>
  implements MessageTransport, AsyncIterable<TransportMessage>
{
  readonly identity: NodeIdentity
  readonly #maxMessageBytes: number
  readonly #clock: Clock
  readonly #outgoing: OutgoingQueue
  readonly #incoming: Incoming
  readonly #connection: RelayConnection
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
    this.#maxMessageBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES
    this.#clock = options.clock ?? systemClock
    this.#outgoing = new OutgoingQueue(
      options.maxOutgoing ?? MAX_OUTGOING_QUEUE,
      options.messageTtl ?? MESSAGE_TTL_MS,
    )
    this.#incoming = new Incoming(
      { maxInbox: options.maxInbox ?? MAX_INBOX, seenIds: SEEN_IDS },
      { count: () => this.listenerCount('message'), emit: (m) => this.emit('message', m) },
    )
    this.#connection = new RelayConnection(
      {
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
        identity: this.identity,
        connectTimeout: options.connectTimeout ?? CONNECT_TIMEOUT_MS,
        keepAlive: options.keepAlive ?? KEEPALIVE_MS,
        reconnect: options.reconnect ?? true,
        reconnectMinDelay: options.reconnectMinDelay ?? RECONNECT_MIN_MS,
        reconnectMaxDelay: options.reconnectMaxDelay ?? RECONNECT_MAX_MS,
        maxLineLength: options.maxLineLength ?? MAX_RELAY_LINE_LENGTH,
      },
      {
        connected: (con, observed) => this.#onConnected(con, observed),
        line: (con, line) => this.#onLine(con, line),
        disconnected: (info) => this.#onDisconnected(info),
        reconnecting: () => this.#outgoing.live(this.#clock.now()), // expire what waited too long
      },
    )
    // Messages that waited for a listener go to the first one attached, in order.
    EventEmitter.prototype.on.call(this, 'newListener', (event: string | symbol) => {
      if (event === 'message') process.nextTick(() => this.#incoming.flush())
    })
  }

  get nodeId(): string {
    return this.identity.nodeId
  }

  /** Whether a relay connection is up and authenticated now. */
  get isConnected(): boolean {
    return this.#connection.current?.isOpen === true
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
      await this.#connection.open(options.signal)
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
        queuedAt: this.#clock.now(),
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
      const con = this.#connection.current
      if (con?.isOpen) write(con, `SEND ${id} ${to} ${entry.payload}`)
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
      const m = await this.#incoming.next(options.signal)
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
    const closing = this.#connection.close() // stops reconnecting at once
    this.#outgoing.rejectAll(error ?? RelayError.CLOSED())
    this.#incoming.end()
    await closing
    this.emit('close', error === undefined ? {} : { error })
  }

  #onConnected(con: LineSocket, observed: { address: string; port: number }): void {
    this.#observed = observed
    this.emit('connected', { ...observed })
    for (const e of this.#outgoing.live(this.#clock.now())) write(con, `SEND ${e.id} ${e.to} ${e.payload}`)
  }

  #onDisconnected(info: { error?: Error; reconnecting: boolean }): void {
    this.emit('disconnected', info)
    if (!info.reconnecting) {
      void this.#shutdown(
        RelayError.CONNECT_FAILED(info.error ?? new Error('the relay closed the connection')),
      )
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
    const message = { from: m.from, id: m.id, message: decodePayload(m.payload), fromAddress: m.fromAddress }
    if (this.#incoming.receive(message)) write(con, `ACK ${m.from} ${m.id}`)
  }

  #warn(err: RelayError): void {
    if (this.listenerCount('warning') > 0) this.emit('warning', err)
  }
}
