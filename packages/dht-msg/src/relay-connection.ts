/**
 * The client's link to the relay: one authenticated connection at a time, kept alive with PINGs and
 * reopened with jittered exponential backoff after a drop (connecting → open → backing off → ...).
 * What the lines mean is the RelayClient's business; this file only keeps a connection up.
 */
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { CloseInfo, LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import createDebug from 'debug'
import { openRelaySession } from './relay-handshake.js'

const log = createDebug('pyp2p:dht-msg')

export interface RelayConnectionOptions {
  host: string
  port: number
  localAddress: string | undefined
  identity: NodeIdentity
  connectTimeout: number
  keepAlive: number
  reconnect: boolean
  reconnectMinDelay: number
  reconnectMaxDelay: number
  maxLineLength: number
}

/** What the connection tells its owner. */
export interface ConnectionEvents {
  /** A connection authenticated and is now `current`. */
  connected(con: LineSocket, observed: { address: string; port: number }): void
  line(con: LineSocket, line: string): void
  /** A connection dropped, or a reconnect attempt failed; `reconnecting` false means it gave up. */
  disconnected(info: { error?: Error; reconnecting: boolean }): void
  /** Before each reconnect attempt (the owner expires what waited too long). */
  reconnecting(): void
}

export class RelayConnection {
  readonly #o: RelayConnectionOptions
  readonly #events: ConnectionEvents
  readonly #closing = new AbortController()
  #con: LineSocket | undefined

  constructor(options: RelayConnectionOptions, events: ConnectionEvents) {
    this.#o = options
    this.#events = events
  }

  /** The open connection, if any. */
  get current(): LineSocket | undefined {
    return this.#con
  }

  get #closed(): boolean {
    return this.#closing.signal.aborted
  }

  /** Open the first connection; rejects with the handshake's RelayError. */
  async open(signal?: AbortSignal): Promise<void> {
    this.#attach(await this.#connect(signal))
  }

  /** Stop reconnecting; say QUIT and close the open connection. Idempotent. */
  async close(): Promise<void> {
    this.#closing.abort()
    const con = this.#con
    if (con === undefined) return
    if (con.isOpen) write(con, 'QUIT')
    con.close()
    await con.closed
  }

  async #connect(
    signal?: AbortSignal,
  ): Promise<{ con: LineSocket; observed: { address: string; port: number } }> {
    return openRelaySession({
      host: this.#o.host,
      port: this.#o.port,
      localAddress: this.#o.localAddress,
      identity: this.#o.identity,
      timeout: this.#o.connectTimeout,
      maxLineLength: this.#o.maxLineLength,
      closing: this.#closing.signal,
      signal,
    })
  }

  #attach({ con, observed }: { con: LineSocket; observed: { address: string; port: number } }): void {
    if (this.#closed) {
      con.close()
      return
    }
    this.#con = con
    let awaitingPong = false
    con.on('line', (line) => {
      awaitingPong = false
      this.#events.line(con, line)
    })
    const keepAlive = setInterval(() => {
      if (awaitingPong) {
        log('no PONG within %d ms: dropping the connection', this.#o.keepAlive)
        con.socket.destroy()
        return
      }
      awaitingPong = true
      write(con, `PING ${randomBytes(6).toString('base64url')}`)
    }, this.#o.keepAlive)
    keepAlive.unref()
    con.once('close', (info) => {
      clearInterval(keepAlive)
      this.#onClose(con, info)
    })
    log('connected to relay %s:%d as %s', this.#o.host, this.#o.port, this.#o.identity.nodeId)
    this.#events.connected(con, observed)
  }

  #onClose(con: LineSocket, info: CloseInfo): void {
    if (this.#con === con) this.#con = undefined
    if (this.#closed) return
    const reconnecting = this.#o.reconnect
    log('relay connection closed (%s)%s', info.reason, reconnecting ? ': reconnecting' : '')
    this.#events.disconnected(info.error ? { error: info.error, reconnecting } : { reconnecting })
    if (reconnecting) void this.#reconnectLoop()
  }

  async #reconnectLoop(): Promise<void> {
    const { reconnectMinDelay: min, reconnectMaxDelay: max } = this.#o
    for (let wait = min; !this.#closed; wait = Math.min(wait * 2, max)) {
      try {
        await delay(wait * (1 + Math.random() * 0.2), undefined, { signal: this.#closing.signal })
      } catch {
        return // closed while waiting
      }
      this.#events.reconnecting()
      try {
        this.#attach(await this.#connect())
        return
      } catch (err) {
        if (this.#closed) return
        log('reconnect failed: %s', (err as Error).message)
        this.#events.disconnected({ error: err as Error, reconnecting: true })
      }
    }
  }
}

/** Send one line; a failed write is only logged (the close handler reconnects). */
export function write(con: LineSocket, line: string): void {
  try {
    con.sendLine(line)
  } catch (err) {
    log('write to the relay failed: %s', (err as Error).message)
  }
}
