/**
 * The requesting side of a reverse connect: send `REVERSE_CONNECT` through the transport and wait for
 * the peer's connection. The request is sent again every `resend` ms while unanswered, because the
 * relay holds messages in memory only and loses one it accepted if it restarts before delivering it
 * (the original repeated the request until answered too); the nonce stays the same, so the peer acts
 * on it once. A peer that refuses the request by a rate limit answers `REVERSE_REFUSED <nonce> <reason>
 * <text>` through the transport (`answerRefusal`), and the wait ends with `ERR_REVERSE_REFUSED`
 * (`ReverseRefusals` routes the answer to its request).
 */

import { performance } from 'node:perf_hooks'
import type { MessageTransport, TransportMessage } from '@pyp2p/dht-msg'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
import createDebug from 'debug'
import { parseReverseRequest } from './connect-hello.js'
import { REVERSE_REFUSED } from './constants.js'
import { UnlError } from './errors.js'
import type { ReverseGuard } from './reverse-guard.js'

const log = createDebug('pyp2p:unl')

export interface ReverseRequestOptions {
  transport: MessageTransport
  /** The peer's node id. */
  to: string
  /** The `REVERSE_CONNECT` message. */
  request: string
  /** How long to wait for the peer's connection, ms. */
  timeout: number
  /** Interval between sends while unanswered, ms. */
  resend: number
  /** The caller's signal (abort or overall timeout). */
  signal: AbortSignal
  /** Installs the callback through which the peer's connection arrives; returns its removal. */
  register(arrived: (con: LineSocket) => void): () => void
  /** Where the peer's `REVERSE_REFUSED` answer is routed (the connector's); none: not listened for. */
  refusals?: ReverseRefusals
}

/** Longest refusal text sent or kept, characters. */
const REFUSAL_TEXT_MAX = 200
const REFUSAL_RE = /^REVERSE_REFUSED ([0-9a-f]{64}) ([a-z][a-z-]{0,31})(?: (.*))?$/

export function formatReverseRefusal(nonce: string, reason: string, text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ').slice(0, REFUSAL_TEXT_MAX)
  return `${REVERSE_REFUSED} ${nonce} ${reason} ${flat}`
}

/** `REVERSE_REFUSED <nonce> <reason> [text]`, or undefined for anything else (ignored). */
export function parseReverseRefusal(
  message: string,
): { nonce: string; reason: string; text: string } | undefined {
  const m = REFUSAL_RE.exec(message)
  if (m === null) return undefined
  return { nonce: m[1]!, reason: m[2]!, text: (m[3] ?? '').slice(0, REFUSAL_TEXT_MAX) }
}

/**
 * The answering side: `error` refused the request `m` by a rate limit (its `refusal` says why), so
 * tell the authenticated sender through the transport, within the guard's bound on answers. Nothing
 * is answered for a malformed or forged request (the sender learns nothing it could use).
 */
export function answerRefusal(
  transport: MessageTransport,
  guard: ReverseGuard,
  m: TransportMessage,
  error: unknown,
): void {
  if (!(error instanceof UnlError) || error.refusal === undefined) return
  let nonce: string
  try {
    nonce = parseReverseRequest(m.message).nonce
  } catch {
    return
  }
  if (!guard.answerRefusal(m.from, Date.now())) return
  transport.send(m.from, formatReverseRefusal(nonce, error.refusal, error.message)).catch((err: unknown) => {
    log('refusal to %s not sent: %s', m.from, (err as Error).message)
  })
}

/** The requests waiting for a peer's connection, by nonce, for their peers' refusals to reach them. */
export class ReverseRefusals {
  readonly #waiting = new Map<string, { nodeId: string; refused(err: UnlError): void }>()

  /** Routes a refusal of `nonce` from `nodeId` to `refused` until the returned function is called. */
  expect(nonce: string, nodeId: string, refused: (err: UnlError) => void): () => void {
    const entry = { nodeId, refused }
    this.#waiting.set(nonce, entry)
    return () => {
      if (this.#waiting.get(nonce) === entry) this.#waiting.delete(nonce)
    }
  }

  /** Whether `m` was a refusal (handled: routed, or ignored when unknown or from another node). */
  handle(m: TransportMessage): boolean {
    if (!m.message.startsWith(`${REVERSE_REFUSED} `)) return false
    const r = parseReverseRefusal(m.message)
    const w = r === undefined ? undefined : this.#waiting.get(r.nonce)
    // Only the node asked may refuse: the relay authenticated the sender.
    if (r !== undefined && w !== undefined && w.nodeId === m.from) {
      w.refused(UnlError.REVERSE_REFUSED(m.from, r.reason, r.text))
    } else log('refusal from %s ignored (no request of ours waits for it)', m.from)
    return true
  }
}

/**
 * Resolves with the peer's connection. Rejects with ERR_RELAY_UNAVAILABLE (the transport never
 * accepted the request), ERR_REVERSE_TIMEOUT (it did, the peer never dialled in), the transport's own
 * error when it refuses the first request outright (queue full, rate limited), or ERR_ABORTED.
 */
export function requestReverse(o: ReverseRequestOptions): Promise<LineSocket> {
  const { transport, to, request, timeout, resend, signal: outer } = o
  const signal = anySignal(outer, AbortSignal.timeout(timeout))
  const done = new AbortController()
  const sendSignal = anySignal(signal, done.signal)
  const started = performance.now()
  let accepted = 0
  let lastError: unknown
  let timer: NodeJS.Timeout | undefined
  return new Promise<LineSocket>((resolve, reject) => {
    const finish = (err: Error | undefined, con?: LineSocket): void => {
      if (done.signal.aborted) {
        con?.close() // arrived after we gave up
        return
      }
      done.abort()
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      unregister()
      unexpect?.()
      if (err !== undefined) reject(err)
      else resolve(con!)
    }
    const onAbort = (): void => {
      // Out of time (ours or the whole connect's): say how far the request got. Aborted: just that.
      const reason: unknown = outer.aborted ? outer.reason : undefined
      if (reason !== undefined && !(reason instanceof DOMException && reason.name === 'TimeoutError')) {
        finish(UnlError.ABORTED(reason))
        return
      }
      const waited = Math.round(performance.now() - started)
      if (accepted === 0) finish(UnlError.RELAY_UNAVAILABLE(to, waited, lastError))
      else finish(UnlError.REVERSE_TIMEOUT(to, waited, accepted))
    }
    const send = (): void => {
      transport.send(to, request, { signal: sendSignal }).then(
        () => {
          accepted += 1
          log('reverse request %d to %s accepted by the transport', accepted, to)
          if (!done.signal.aborted) timer = setTimeout(send, resend)
        },
        (err: unknown) => {
          if (sendSignal.aborted) return
          lastError = err
          log('reverse request to %s refused: %s', to, (err as Error).message)
          // Refused outright the first time: fail the method; a refused repeat leaves the first standing.
          if (accepted === 0) finish(err instanceof Error ? err : new Error(String(err)))
          else timer = setTimeout(send, resend)
        },
      )
    }
    const unregister = o.register((con) => finish(undefined, con))
    const nonce = request.slice(request.lastIndexOf(' ') + 1)
    const unexpect = o.refusals?.expect(nonce, to, (err) => finish(err))
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort, { once: true })
    send()
  })
}
