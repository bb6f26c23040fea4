/**
 * Running a connect plan: the planned methods in order until one gives a connection, every attempt
 * timed and reported, one deadline for all, and the failure typed by what ended it (our `close()`, the
 * caller's signal, the deadline, or every method failing).
 */
import { performance } from 'node:perf_hooks'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
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
  const signal = anySignal(...signals)
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
      const refusal = finalRefusal(error)
      if (refusal !== undefined) {
        // The node itself said no: another method reaches the same node and its same answer.
        const rest = plan.methods.slice(plan.methods.indexOf(m) + 1).map((n) => notTried(n, refusal))
        log(
          '%s refused by %s: %s not tried',
          o.nodeId,
          refusal,
          rest.map((r) => r.method).join(', ') || 'nothing',
        )
        throw UnlError.CONNECT_FAILED([...attempts, ...rest, ...plan.skipped])
      }
    }
  }
  throw UnlError.CONNECT_FAILED([...attempts, ...plan.skipped])
}

/**
 * Admission refusals that are final for a peer (issue 18): it is full (`ERR_PEER_FULL`), already holds
 * the connection both keep (`ERR_DUPLICATE`), or is ourselves (`ERR_SELF`), whether it told us
 * (`ERR_PEER_FULL`/`ERR_PEER_REFUSED`) or our node refused its answer to our reverse request
 * (`ERR_NOT_ADMITTED`). `ERR_NOT_READY` (starting or stopping) is not: it passes.
 */
export const FINAL_REFUSALS: readonly string[] = ['ERR_PEER_FULL', 'ERR_DUPLICATE', 'ERR_SELF']

/** The final refusal an attempt's error carries, or undefined. */
export function finalRefusal(error: Error): string | undefined {
  if (!(error instanceof UnlError) || error.refusal === undefined) return undefined
  return FINAL_REFUSALS.includes(error.refusal) ? error.refusal : undefined
}

function notTried(m: PlannedMethod, refusal: string): AttemptReport {
  const error = new Error(`not tried: the node refused the connection (${refusal})`)
  return { method: m.method, ok: false, skipped: true, durationMs: 0, error }
}
