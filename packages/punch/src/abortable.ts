/**
 * Waiting on a shared promise with one caller's signal: the caller stops waiting, the work goes on.
 */
import { PunchError } from './errors.js'

/** `p`, or `ERR_ABORTED` as soon as `signal` fires (`p` goes on). */
export function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(PunchError.ABORTED('coordination', signal.reason))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(PunchError.ABORTED('coordination', signal.reason))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
