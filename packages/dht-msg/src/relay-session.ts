/**
 * One client connection on the relay, as a state machine fed one line at a time:
 * `hello` (expects `RELAY PYP2P-MSG/1 <node-id>`) → `auth` (expects `AUTH <key> <signature>`) →
 * `ready` (SEND, ACK, PING, QUIT) → `closed`. Never throws: bad input becomes an `ERROR`/`FAIL` line.
 */
import { randomBytes } from 'node:crypto'
import { verifyChallenge } from '@pyp2p/identity'
import { CHALLENGE_BYTES } from './constants.js'
import { RelayError } from './errors.js'
import type { StoredMessage } from './message-store.js'
import {
  type ClientLine,
  formatError,
  formatFail,
  parseAuth,
  parseClientLine,
  parseHello,
} from './protocol.js'
import type { RelayLink } from './relay-link.js'

export interface SessionHost {
  /** Whether this address may try to authenticate now (rate limit). */
  mayAuthenticate(address: string): boolean
  /** The session proved its node id: register it, send WELCOME and its queued messages. */
  authenticated(session: RelaySession): void
  onSend(session: RelaySession, line: Extract<ClientLine, { type: 'SEND' }>): void
  onAck(session: RelaySession, from: string, id: string): void
}

type State = 'hello' | 'auth' | 'ready' | 'closed'

export class RelaySession {
  readonly link: RelayLink
  /** The node id claimed in the hello line; proved once `ready`. */
  nodeId = ''
  readonly #host: SessionHost
  /** Messages already pushed on this connection (not again until the node reconnects). */
  readonly #pushed = new Set<string>()
  #state: State = 'hello'
  #challenge = ''

  constructor(link: RelayLink, host: SessionHost) {
    this.link = link
    this.#host = host
  }

  get address(): string {
    return this.link.address
  }

  /** Authenticated. */
  get ready(): boolean {
    return this.#state === 'ready'
  }

  onLine(line: string): void {
    try {
      if (this.#state === 'hello') this.#onHello(line)
      else if (this.#state === 'auth') this.#onAuth(line)
      else if (this.#state === 'ready') this.#onCommand(line)
    } catch (err) {
      // Only the handshake parsers throw, always a RelayError: the connection is refused.
      this.close(err instanceof RelayError ? err : RelayError.PROTOCOL(String(err)))
    }
  }

  /** Push a message unless this connection already carried it. */
  push(m: StoredMessage): void {
    const key = `${m.from}/${m.id}`
    if (this.#pushed.has(key)) return
    this.#pushed.add(key)
    this.write(`MSG ${m.from} ${m.id} ${m.fromAddress} ${m.payload}`)
  }

  acked(from: string, id: string): void {
    this.#pushed.delete(`${from}/${id}`)
  }

  write(line: string): void {
    if (this.#state !== 'closed') this.link.write(line)
  }

  close(reason?: RelayError): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    this.link.close(reason)
  }

  /** The connection closed under us (its owner tells us). */
  closed(): void {
    this.#state = 'closed'
  }

  #onHello(line: string): void {
    this.nodeId = parseHello(line)
    if (!this.#host.mayAuthenticate(this.address)) throw RelayError.RATE_LIMITED('address')
    this.#challenge = randomBytes(CHALLENGE_BYTES).toString('base64url')
    this.#state = 'auth'
    this.write(`CHALLENGE ${this.#challenge}`)
  }

  #onAuth(line: string): void {
    const { publicKey, signature } = parseAuth(line)
    if (!verifyChallenge(this.nodeId, this.#challenge, publicKey, signature)) {
      throw RelayError.AUTH_FAILED('the key does not match the node id or the signature is wrong')
    }
    this.#state = 'ready'
    this.link.hold(true)
    this.#host.authenticated(this)
  }

  #onCommand(line: string): void {
    let cmd: ClientLine
    try {
      cmd = parseClientLine(line)
    } catch (err) {
      const e = err instanceof RelayError ? err : RelayError.BAD_LINE(String(err))
      // A SEND we can't read still answers its id, so the sender's send() settles.
      const [word, id = ''] = line.split(' ', 3)
      if (word === 'SEND' && /^[A-Za-z0-9_-]{1,32}$/.test(id)) this.write(formatFail(id, e))
      else this.write(formatError(e))
      return
    }
    switch (cmd.type) {
      case 'SEND':
        this.#host.onSend(this, cmd)
        return
      case 'ACK':
        this.#host.onAck(this, cmd.from, cmd.id)
        return
      case 'PING':
        this.write(`PONG ${cmd.token}`)
        return
      case 'QUIT':
        this.close()
        return
    }
  }
}
