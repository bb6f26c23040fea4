/**
 * `anySignal` against the Node 20 defect it exists for: `AbortSignal.any()` holds its sources weakly,
 * so an inline `AbortSignal.timeout()` collected by a GC never fires. The garbage collector is run
 * for real (`--expose-gc` switched on from inside the test).
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { anySignal } from '../src/index.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void
/** A full collection on a later turn, when no frame of the caller still holds a temporary. */
const collectSoon = (): void => {
  setImmediate(gc)
}

/** Resolves with the abort reason's name once `signal` aborts. */
const aborted = (signal: AbortSignal): Promise<string> =>
  new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve((signal.reason as Error).name), { once: true }),
  )

describe('anySignal', () => {
  it('an inline timeout still fires after a garbage collection (AbortSignal.any alone: never)', async () => {
    const closing = new AbortController()
    const signal = anySignal(closing.signal, AbortSignal.timeout(50))
    const fired = aborted(signal)
    collectSoon() // before the timeout: the timeout signal is referred to by `signal` only
    expect(await fired).toBe('TimeoutError')
    expect(closing.signal.aborted).toBe(false)
  }, 3_000) // without the fix it never fires: fail fast

  it("a caller's timeout signal passed inline survives a garbage collection too", async () => {
    const combine = (opts: { signal: AbortSignal }) => anySignal(new AbortController().signal, opts.signal)
    const signal = combine({ signal: AbortSignal.timeout(50) })
    const fired = aborted(signal)
    collectSoon()
    expect(await fired).toBe('TimeoutError')
  }, 3_000)

  it('aborts with the first source that aborts, and its reason', () => {
    const a = new AbortController()
    const b = new AbortController()
    const signal = anySignal(a.signal, undefined, b.signal)
    b.abort(new Error('b went'))
    expect(signal.aborted).toBe(true)
    expect((signal.reason as Error).message).toBe('b went')
  })

  it('one signal (undefined entries skipped) is returned as it is; none never aborts', () => {
    const a = new AbortController()
    expect(anySignal(undefined, a.signal)).toBe(a.signal)
    expect(anySignal().aborted).toBe(false)
  })
})
