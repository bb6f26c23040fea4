/**
 * The requesting side of a reverse connect: send `REVERSE_CONNECT` through the transport and wait for
 * the peer's connection. The request is sent again every `resend` ms while unanswered, because the
 * relay holds messages in memory only and loses one it accepted if it restarts before delivering it
 * (the original repeated the request until answered too); the nonce stays the same, so the peer acts
 * on it once.
 */

import { performance } from 'node:perf_hooks'
import type { MessageTransport } from '@pyp2p/dht-msg'
import type { LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import { UnlError } from './errors.js'

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
}

/**
 * Resolves with the peer's connection. Rejects with ERR_RELAY_UNAVAILABLE (the transport never
 * accepted the request), ERR_REVERSE_TIMEOUT (it did, the peer never dialled in), the transport's own
 * error when it refuses the first request outright (queue full, rate limited), or ERR_ABORTED.
 */
export function requestReverse(o: ReverseRequestOptions): Promise<LineSocket> {
  const { transport, to, request, timeout, resend, signal: outer } = o
  const signal = AbortSignal.any([outer, AbortSignal.timeout(timeout)])
  const done = new AbortController()
  const sendSignal = AbortSignal.any([signal, done.signal])
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
    if (signal.aborted) {
      onAbort()
      return
    }
    signal.addEventListener('abort', onAbort, { once: true })
    send()
  })
}
