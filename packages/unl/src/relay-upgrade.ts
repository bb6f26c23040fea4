/**
 * The relayed connection's one try at a better path (DCUtR-like, after js-libp2p's `dcutr`): the two
 * ends coordinate over the circuit, in control lines of relay-lines.ts, inside the secure stream.
 *
 * 1. The circuit's dialler sends `!UPGRADE <nonce>`.
 * 2. The other end expects a connection from that node with that hello nonce (the connector's pending
 *    table, as for a reverse connect: it reaches this code, not the application) and answers
 *    `!UNL <its current UNL>`, or `!NO` when upgrades are off.
 * 3. The dialler runs the connector's plan without `reverse` and `relay` (direct, punch, as the two
 *    UNLs allow) with that nonce, each attempt through upgrade.ts and for the same node id. It fails:
 *    `!FAIL`, the circuit stays. It works: both ends switch (relay-lines.ts) and the circuit closes.
 */
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { LineSocket } from '@pyp2p/framing'
import { anySignal } from '@pyp2p/framing'
import createDebug from 'debug'
import { type PlannedMethod, planConnect } from './connect-plan.js'
import { runPlan } from './connect-run.js'
import { NONCE_BYTES, UPGRADE_GRACE_MS } from './constants.js'
import { UnlError } from './errors.js'
import type { RelayedLines } from './relay-lines.js'
import { UNL } from './unl.js'

const log = createDebug('pyp2p:unl:relay')
const NONCE = /^[0-9a-f]{64}$/

/** What the upgrade needs from the connector. */
export interface UpgradeHost {
  /** Whether this node tries (and accepts) upgrades. */
  enabled: boolean
  /** Our current UNL. */
  ours(): UNL
  /** Whether a puncher is configured. */
  punch: boolean
  /** One attempt by one method, with this hello nonce, past upgrade.ts. */
  attempt(m: PlannedMethod, theirs: UNL, nonce: string, signal: AbortSignal): Promise<LineSocket>
  /** The one try failed: the connection stays relayed. */
  failed(error: UnlError): void
  /**
   * Hands the connection `nodeId` makes with hello `nonce` to `resolve`, or its refusal at our admission
   * to `refuse` (nothing else will come with that nonce); the returned function forgets it.
   */
  expect(
    nonce: string,
    nodeId: string,
    resolve: (con: LineSocket) => void,
    refuse: (err: Error) => void,
  ): () => void
  /** The connector's `close()`. */
  closing: AbortSignal
  /** The whole try, ms. */
  timeout: number
}

/** The circuit dialler's side: one try, in the background; never throws (a failure keeps the circuit). */
export async function tryUpgrade(lines: RelayedLines, theirs: UNL, host: UpgradeHost): Promise<void> {
  const nonce = randomBytes(NONCE_BYTES).toString('hex')
  const ended = new AbortController()
  lines.connection.once('close', () => ended.abort())
  const signal = anySignal(host.closing, ended.signal, AbortSignal.timeout(host.timeout))
  let reply: { word: string; args: string }
  const fail = (error: UnlError): void => {
    log('upgrade to %s failed, staying relayed: %s', theirs.nodeId, error.message)
    lines.expectingSwitch = false
    // The peer took a connection of ours we then gave up (it answered too late): nothing to go back to.
    if (lines.peerSwitched) {
      lines.fail(UnlError.UPGRADE_BROKEN(`the peer switched, we failed: ${error.message}`))
      return
    }
    lines.control('FAIL')
    if (!host.closing.aborted && lines.connection.isOpen) host.failed(error)
  }
  try {
    reply = await nextControl(lines, signal, () => lines.control('UPGRADE', nonce))
  } catch (err) {
    return fail(UnlError.UPGRADE_FAILED('no answer from the peer over the circuit', err))
  }
  if (reply.word !== 'UNL') return fail(UnlError.UPGRADE_FAILED('the peer does not upgrade'))
  let fresh: UNL
  try {
    fresh = UNL.parse(reply.args)
    if (fresh.nodeId !== theirs.nodeId) throw new Error(`its UNL names another node id ${fresh.nodeId}`)
  } catch (err) {
    return fail(UnlError.UPGRADE_FAILED('the peer sent a bad UNL', err))
  }
  const plan = planConnect(host.ours(), fresh, { reverse: false, punch: host.punch, relay: false })
  lines.expectingSwitch = true
  try {
    const r = await runPlan(plan, {
      nodeId: theirs.nodeId,
      attempt: (m, s) => host.attempt(m, fresh, nonce, s),
      closing: signal,
      signal: undefined,
      timeout: host.timeout,
      started: performance.now(),
      secure: true,
    })
    lines.switchTo(r.connection, r.method)
  } catch (err) {
    fail(UnlError.UPGRADE_FAILED((err as Error).message, err))
  }
}

/** The other end: answers the dialler's `UPGRADE` and waits (bounded) for its connection. */
export function answerUpgrades(lines: RelayedLines, nodeId: string, host: UpgradeHost) {
  let forget: (() => void) | undefined
  let timer: NodeJS.Timeout | undefined
  let switched = false
  const stop = (): void => {
    forget?.()
    forget = undefined
    clearTimeout(timer)
    if (!switched) lines.expectingSwitch = false
  }
  lines.connection.once('close', stop)
  return (word: string, args: string): void => {
    if (word === 'FAIL') {
      if (switched) lines.fail(UnlError.UPGRADE_BROKEN('the peer failed after we switched'))
      stop()
      return
    }
    if (word !== 'UPGRADE') return
    if (!host.enabled || forget !== undefined || timer !== undefined || !NONCE.test(args)) {
      lines.control('NO')
      return
    }
    forget = host.expect(
      args,
      nodeId,
      (con) => {
        forget?.()
        forget = undefined
        switched = true
        clearTimeout(timer)
        lines.switchTo(con, undefined)
      },
      (err) => {
        // Our node refused the dialler's connection: the wait ends now, not at its timer.
        log('upgrade connection from %s refused: %s', nodeId, err.message)
        stop()
      },
    )
    lines.expectingSwitch = true
    // Longer than the dialler's try (its connection may arrive at its very end): past it, a late
    // connection with this nonce is a new one, and a `!SWITCH` then breaks the connection (typed).
    timer = setTimeout(stop, host.timeout + UPGRADE_GRACE_MS)
    timer.unref()
    lines.control('UNL', host.ours().toString())
  }
}

// The next upgrade word (`UNL`, `NO`) the peer sends after `send()`.
function nextControl(
  lines: RelayedLines,
  signal: AbortSignal,
  send: () => void,
): Promise<{ word: string; args: string }> {
  return new Promise((resolve, reject) => {
    const done = (): void => signal.removeEventListener('abort', onAbort)
    const onAbort = (): void => {
      lines.onControl = undefined
      reject(signal.reason)
    }
    if (signal.aborted) return reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    lines.onControl = (word, args) => {
      if (word !== 'UNL' && word !== 'NO') return
      lines.onControl = undefined
      done()
      resolve({ word, args })
    }
    send()
  })
}
