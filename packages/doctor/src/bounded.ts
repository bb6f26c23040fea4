// One check, bounded in time: it gets a signal that fires at its bound, and the doctor stops
// waiting for it then even if the check itself ignored the signal.

import { anySignal } from '@pyp2p/framing'
import { DoctorError } from './errors.js'
import type { CheckResult } from './report.js'

export interface Bounded<T> {
  value?: T
  result: CheckResult
}

export async function bounded<T>(
  name: string,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<Bounded<T>> {
  const started = performance.now()
  const timer = new AbortController()
  const handle = setTimeout(() => timer.abort(DoctorError.TIMEOUT(name, ms)), ms)
  const signal = anySignal(timer.signal, outer)
  const took = () => Math.round(performance.now() - started)
  try {
    const value = await new Promise<T>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      run(signal).then(resolve, reject)
    })
    return { value, result: { name, status: 'ok', ms: took() } }
  } catch (err) {
    const timedOut = timer.signal.aborted
    const e = err as { code?: unknown; message?: unknown }
    const code = timedOut ? 'ERR_TIMEOUT' : typeof e?.code === 'string' ? e.code : 'ERR_FAILED'
    const message = timedOut ? `no answer within ${ms} ms` : String(e?.message ?? err)
    return { result: { name, status: timedOut ? 'timeout' : 'failed', ms: took(), error: { code, message } } }
  } finally {
    clearTimeout(handle)
  }
}

export const skipped = (name: string, why: string): CheckResult => ({
  name,
  status: 'skipped',
  ms: 0,
  error: { code: 'SKIPPED', message: why },
})
