/**
 * The connector's reverse connect in one place, both ways: asking a peer, through the message
 * transport, to dial us (reverse-request.ts: resends, its refusals, our admission refusing its answer),
 * and answering other nodes' requests (reverse-guard.ts screens them) by dialling them past the
 * connector's outbound upgrade.
 */
import type { MessageTransport, TransportMessage } from '@pyp2p/dht-msg'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
import createDebug from 'debug'
import type { PendingReverse } from './accept-incoming.js'
import { formatReverseRequest, isReverseRequest } from './connect-hello.js'
import type { IncomingConnection, UnlConnectorOptions } from './connector-options.js'
import type { ConnectorSettings } from './connector-settings.js'
import { ReverseGuard } from './reverse-guard.js'
import { answerRefusal, ReverseRefusals, requestReverse } from './reverse-request.js'
import type { UNL } from './unl.js'

const log = createDebug('pyp2p:unl')

/** What the reverse side needs from the connector. */
export interface ReverseHooks {
  /** Our current UNL. */
  ours(): UNL
  /** The connector's `connect()`s waiting for a peer to dial in, by hello nonce (accept-incoming.ts). */
  pending: Map<string, PendingReverse>
  /** A TCP dial past the outbound upgrade, proving `expected`. */
  dial(host: string, port: number, nonce: string, expected: string, signal: AbortSignal): Promise<LineSocket>
  /** Hands a connection we made for a peer's request to the application. */
  deliver(incoming: IncomingConnection): void
  /** The connector's `refused` event. */
  refused(info: { from: string; error: Error }): void
}

export class ReverseSide {
  readonly #transport: MessageTransport | undefined
  readonly #s: ConnectorSettings
  readonly #hooks: ReverseHooks
  readonly #closing: AbortSignal
  readonly #guard: ReverseGuard
  readonly #refusals = new ReverseRefusals()
  readonly #unsubscribe: (() => void) | undefined

  constructor(options: UnlConnectorOptions, s: ConnectorSettings, closing: AbortSignal, hooks: ReverseHooks) {
    this.#transport = options.transport
    this.#s = s
    this.#hooks = hooks
    this.#closing = closing
    this.#guard = new ReverseGuard(options.reverseLimits)
    if (this.#transport !== undefined && (options.answerReverse ?? true)) {
      this.#unsubscribe = this.#transport.subscribe((m) => this.#onMessage(m))
    }
  }

  /** Whether we can ask for reverse connects (a transport is configured). */
  get available(): boolean {
    return this.#transport !== undefined
  }

  /** Stops answering requests. */
  close(): void {
    this.#unsubscribe?.()
  }

  /** Asks `theirs` to dial us with hello `nonce`; resolves with its connection past the inbound step. */
  request(theirs: UNL, nonce: string, signal: AbortSignal): Promise<LineSocket> {
    const { pending } = this.#hooks
    const refused = new AbortController() // our admission refused their answer (accept-incoming.ts)
    return requestReverse({
      transport: this.#transport!,
      to: theirs.nodeId,
      request: formatReverseRequest(this.#hooks.ours(), nonce),
      timeout: this.#s.reverseTimeout,
      resend: this.#s.reverseResend,
      signal: anySignal(signal, refused.signal),
      refusals: this.#refusals,
      register: (resolve) => {
        pending.set(nonce, { nodeId: theirs.nodeId, resolve, refuse: (err) => refused.abort(err) })
        return () => pending.delete(nonce)
      },
    }).catch((err: unknown) => Promise.reject(refused.signal.aborted ? refused.signal.reason : err))
  }

  #onMessage(m: TransportMessage): void {
    if (this.#refusals.handle(m) || !isReverseRequest(m.message)) return
    let target: ReturnType<ReverseGuard['check']>
    try {
      target = this.#guard.check(m, this.#hooks.ours(), Date.now())
    } catch (err) {
      log('reverse-connect request from %s refused: %s', m.from, (err as Error).message)
      this.#hooks.refused({ from: m.from, error: err as Error })
      answerRefusal(this.#transport!, this.#guard, m, err) // a rate limit: the requester is told
      return
    }
    if (target === undefined) return // a repeat of a request already answered
    const { host, port, nonce, unl } = target
    const signal = anySignal(this.#closing, AbortSignal.timeout(this.#s.dialTimeout))
    this.#hooks.dial(host, port, nonce, unl.nodeId, signal).then(
      (connection) =>
        this.#hooks.deliver({
          connection,
          method: 'reverse',
          nodeId: unl.nodeId,
          peer: unl,
          secure: this.#s.secure,
        }),
      (err: unknown) => {
        log('reverse connect to %s:%d failed: %s', host, port, (err as Error).message)
        this.#hooks.refused({ from: m.from, error: err as Error })
      },
    )
  }
}
