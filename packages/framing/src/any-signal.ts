/**
 * `AbortSignal.any()` that holds on to its sources. Node 20's `AbortSignal.any()` refers to its
 * sources only weakly, so a source that nothing else holds — typically an inline
 * `AbortSignal.timeout(ms)`, or a caller's `{ signal: AbortSignal.timeout(ms) }` kept only in the
 * combination — can be garbage collected before it fires, and the combined signal then never aborts
 * (nodejs/node#57736; on Node 20.20, one `gc()` before the timeout is enough). An operation bounded
 * that way waits forever once a GC runs at the wrong moment. Every combination of signals in pyp2p's
 * libraries goes through here.
 */

const SOURCES = Symbol('pyp2p.anySignal.sources')

/**
 * A signal that aborts when any of `signals` does, with that signal's reason; `undefined` entries are
 * skipped, and a single signal is returned as it is. The result keeps its sources alive for as long as
 * it is itself alive.
 */
export function anySignal(...signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const sources = signals.filter((s): s is AbortSignal => s !== undefined)
  if (sources.length === 1) return sources[0] as AbortSignal
  const any = AbortSignal.any(sources)
  Object.defineProperty(any, SOURCES, { value: sources })
  return any
}
