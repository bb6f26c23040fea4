/**
 * Running a connect plan: the planned methods in order until one gives a connection, every attempt
 * timed and reported, one deadline for all, and the failure typed by what ended it (our `close()`, the
 * caller's signal, the deadline, or every method failing).
 */
import { performance } from 'node:perf_hooks'
import type { LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import type { ConnectPlan, PlannedMethod } from './connect-plan.js'
import type { ConnectResult } from './connector-options.js'
import { type AttemptReport, UnlError } from './errors.js'

const log = createDebug('pyp2p:unl')

export interface RunOptions {
  /** Who we connect to, for logs. */
  nodeId: string
  /** One attempt by one method: a connection past the upgrade step, or a rejection. */
  attempt(m: PlannedMethod, signal: AbortSignal): Promise<LineSocket>
  /** The connector's own signal (fires at `close()`). */
  closing: AbortSignal
  /** The caller's signal. */
  signal: AbortSignal | undefined
  /** The whole run, ms. */
  timeout: number
  /** When the call started (`performance.now()`), for the reported duration. */
  started: number
  /** Whether the connections are secure (the connector's setting), for the result. */
  secure: boolean
  /** The relay a connection runs through (`ConnectResult.relay`), when it is relayed. */
  relayOf?: (connection: LineSocket) => string | undefined
}

export async function runPlan(plan: ConnectPlan, o: RunOptions): Promise<ConnectResult> {
  const signals = [o.closing, AbortSignal.timeout(o.timeout)]
  if (o.signal !== undefined) signals.push(o.signal)
  const signal = AbortSignal.any(signals)
  const attempts: AttemptReport[] = []
  if (plan.methods.length === 0) throw UnlError.NO_METHOD(plan.skipped)
  for (const m of plan.methods) {
    const t0 = performance.now()
    try {
      const connection = await o.attempt(m, signal)
      attempts.push({ method: m.method, ok: true, durationMs: performance.now() - t0 })
      log('connected to %s by %s', o.nodeId, m.method)
      const durationMs = performance.now() - o.started
      const all = [...attempts, ...plan.skipped]
      const relay = o.relayOf?.(connection)
      const result = { connection, method: m.method, secure: o.secure, durationMs, attempts: all }
      return relay === undefined ? result : { ...result, relay }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err))
      attempts.push({ method: m.method, ok: false, durationMs: performance.now() - t0, error })
      log('%s to %s failed: %s', m.method, o.nodeId, error.message)
      if (signal.aborted) {
        const all = [...attempts, ...plan.skipped]
        if (o.closing.aborted) throw UnlError.CLOSED()
        if (o.signal?.aborted) throw UnlError.ABORTED(o.signal.reason)
        throw UnlError.CONNECT_TIMEOUT(o.timeout, all)
      }
    }
  }
  throw UnlError.CONNECT_FAILED([...attempts, ...plan.skipped])
}
