import { NatError } from './errors.js'

/**
 * One signal for "caller aborted or `timeout` ms passed"; `fail` turns the abort reason into a NatError.
 * The timer of AbortSignal.timeout() does not keep the process alive.
 */
export function deadline(what: string, timeoutMs: number, signal?: AbortSignal) {
  const timer = AbortSignal.timeout(timeoutMs)
  const combined = signal === undefined ? timer : AbortSignal.any([signal, timer])
  const fail = (cause?: unknown): NatError => {
    if (signal?.aborted) return NatError.ABORTED(what, signal.reason)
    if (timer.aborted) return NatError.TIMEOUT(what, timeoutMs, cause)
    return cause instanceof NatError
      ? cause
      : NatError.GATEWAY(what, String((cause as Error)?.message ?? cause))
  }
  return { signal: combined, fail }
}
