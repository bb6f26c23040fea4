import { NatError } from './errors.js'

const SOURCES = Symbol('pyp2p.nat.anySignal.sources')

/**
 * `AbortSignal.any()` of the signals given (`undefined` skipped; one is returned as it is) that holds
 * its sources: Node 20's `any()` refers to them weakly, so an `AbortSignal.timeout()` that nothing else
 * holds can be collected by a GC before it fires, and the combination then never aborts
 * (nodejs/node#57736). The same as @pyp2p/framing's `anySignal`; this package stands alone.
 */
export function anySignal(...signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined)
  if (sources.length === 1) return sources[0] as AbortSignal
  const any = AbortSignal.any(sources)
  Object.defineProperty(any, SOURCES, { value: sources })
  return any
}

/**
 * One signal for "caller aborted or `timeout` ms passed"; `fail` turns the abort reason into a NatError.
 * The timer of AbortSignal.timeout() does not keep the process alive.
 */
export function deadline(what: string, timeoutMs: number, signal?: AbortSignal) {
  const timer = AbortSignal.timeout(timeoutMs)
  const combined = anySignal(signal, timer)
  const fail = (cause?: unknown): NatError => {
    if (signal?.aborted) return NatError.ABORTED(what, signal.reason)
    if (timer.aborted) return NatError.TIMEOUT(what, timeoutMs, cause)
    return cause instanceof NatError
      ? cause
      : NatError.GATEWAY(what, String((cause as Error)?.message ?? cause))
  }
  return { signal: combined, fail }
}
