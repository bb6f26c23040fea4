/**
 * One side of a punch between `CANDIDATE`/`CHALLENGE` and the connection: learn the own mapping from a
 * fresh local port (or listen, without NAT), wait the server's delay precisely, and connect.
 */
import type { Socket } from 'node:net'
import { anySignal, LineSocket, type LineSocketOptions } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import type { FightMessage } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import {
  PRECISE_WAIT_MS,
  PUNCH_TIMEOUT_MS,
  ROUND_ATTEMPTS,
  STALL_PATH_RTTS,
  SYN_RETRANSMIT_MS,
} from './constants.js'
import { detectNat } from './detect-nat.js'
import { DirectListener, isUnNatted } from './direct-listener.js'
import { isPunchError, PunchError, type PunchStage } from './errors.js'
import type { NatBehaviour } from './nat-type.js'
import { predictPorts } from './port-prediction.js'
import { RendezvousClient, type ServerAddress } from './rendezvous-client.js'
import { simultaneousOpen } from './simultaneous-open.js'

const log = createDebug('pyp2p:punch')

/**
 * How the connection was made: simultaneous open (preserving/reuse NATs), simultaneous open with delta
 * prediction (sequential NATs), or `direct` (one side has no NAT and listened).
 */
export type PunchMethod = 'simultaneous-open' | 'delta-prediction' | 'direct'

export interface PunchResult {
  connection: LineSocket
  method: PunchMethod
  /**
   * Connect attempts (SYNs sent by `connect()`) on the port that connected, the successful one included;
   * 0 when this side only listened.
   */
  attempts: number
  /** From the call to the connection, in ms. */
  durationMs: number
  /** From firing (after the server's delay) to the connection, in ms. */
  punchMs: number
  punchId: string
  /** Punch rounds it took (candidate side; 1 on the target side, where each round is a new challenge). */
  rounds: number
  /** When this side fired (after the server's delay), in ms since the epoch, sub-millisecond. */
  firedAt: number
  peer: { ip: string; port: number; nodeId: string }
  localPort: number
}

export interface PunchTuning {
  /** This side's NAT behaviour (from {@link detectNat}); detected first when missing. */
  nat?: NatBehaviour
  localAddress?: string
  /** Connect attempts per port; default `MAX_PUNCH_ATTEMPTS`. */
  maxAttempts?: number
  /** Simultaneous-open time limit in ms; default {@link PUNCH_TIMEOUT_MS}. */
  punchTimeout?: number
  /** Pause after a refused attempt in ms; default `RETRY_GAP_MS`. */
  retryGap?: number
  /** Limits of the returned connection. */
  lineOptions?: LineSocketOptions
  /**
   * The node's key: signs the `CANDIDATE` of a punch for servers that require proof of ownership
   * (issue 17). Its `nodeId` must be the punch's own node id. Default: none (unsigned).
   */
  identity?: NodeIdentity
  signal?: AbortSignal
}

export function restage(err: unknown, stage: PunchStage, signal: AbortSignal | undefined): PunchError {
  if (signal?.aborted) return PunchError.ABORTED(stage, signal.reason)
  if (isPunchError(err)) return err
  return new PunchError('ERR_PUNCH_FAILED', stage, String(err), { cause: err })
}

export async function ownNat(
  tuning: PunchTuning,
  server: ServerAddress,
  nodeId: string,
): Promise<NatBehaviour> {
  if (tuning.nat !== undefined) return tuning.nat
  return detectNat({
    server,
    nodeId,
    ...(tuning.identity !== undefined && { identity: tuning.identity }),
    ...(tuning.localAddress !== undefined && { localAddress: tuning.localAddress }),
    ...(tuning.signal !== undefined && { signal: tuning.signal }),
  })
}

/** Opens the punch's own server connection from a fresh local port: its HELLO is the mapping. */
function openMapping(server: ServerAddress, nodeId: string, tuning: PunchTuning): Promise<RendezvousClient> {
  return RendezvousClient.connect({
    server,
    nodeId,
    localPort: 0,
    ...(tuning.identity !== undefined && { identity: tuning.identity }),
    ...(tuning.localAddress !== undefined && { localAddress: tuning.localAddress }),
    ...(tuning.signal !== undefined && { signal: tuning.signal }),
  })
}

/**
 * Waits `ms` (the server's `FIGHT` delay): a timer for the bulk, then event-loop turns for the last
 * {@link PRECISE_WAIT_MS}, so the SYN leaves close to the chosen moment.
 */
function waitPrecisely(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const until = performance.now() + ms
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let immediate: NodeJS.Immediate | undefined
    const onAbort = (): void => {
      clearTimeout(timer)
      if (immediate !== undefined) clearImmediate(immediate)
      reject(PunchError.ABORTED('punch', signal?.reason))
    }
    const spin = (): void => {
      if (performance.now() >= until) {
        signal?.removeEventListener('abort', onAbort)
        resolve()
        return
      }
      immediate = setImmediate(spin)
    }
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    const coarse = ms - PRECISE_WAIT_MS
    if (coarse > 0) timer = setTimeout(spin, coarse)
    else spin()
  })
}

/** What one side prepared before the `FIGHT`: a mapping to punch from, or (no NAT) a listener. */
export interface Prepared {
  mapping: RendezvousClient | undefined
  listener: DirectListener | undefined
  ports: number[]
  /** How long opening the mapping's connection took (connect and `HELLO`): this side's RTT to the server, about. */
  serverRttMs: number
}

export function closePrepared(p: Partial<Prepared> | undefined): void {
  p?.mapping?.close()
  p?.listener?.close()
}

/**
 * Opens this side's punch connection to the server from a fresh local port: its `HELLO` is the mapping
 * the peer will be told about. A host the server sees without NAT listens on a port of its own instead.
 */
export async function prepare(
  server: ServerAddress,
  nodeId: string,
  nat: NatBehaviour,
  tuning: PunchTuning,
): Promise<Prepared> {
  const t0 = performance.now()
  const mapping = await openMapping(server, nodeId, tuning)
  const serverRttMs = performance.now() - t0
  try {
    if (isUnNatted(mapping.observed, { address: mapping.connection.localAddress, port: mapping.localPort })) {
      const listener = await DirectListener.open(tuning.localAddress)
      return { mapping, listener, ports: [listener.port], serverRttMs }
    }
    return { mapping, listener: undefined, ports: predictPorts(nat, mapping.observed.port), serverRttMs }
  } catch (err) {
    mapping.close()
    throw err
  }
}

/**
 * Tells the server (without waiting: the reply comes before the next request's) what this side's router
 * does with unsolicited SYNs, so it can let a side behind a resetting router fire first. Only for a side
 * that punches from a NAT mapping whose policy is known; a server without `INBOUND` answers
 * `ERR_UNKNOWN_COMMAND`, which changes nothing.
 */
export function declareInbound(client: RendezvousClient, nat: NatBehaviour, prepared: Prepared): void {
  if (nat.inbound === undefined || prepared.listener !== undefined) return
  client.declareInbound(nat.inbound).catch((err: unknown) => {
    log('INBOUND not taken by the server: %s', err instanceof Error ? err.message : String(err))
  })
}

/**
 * Waits the server's delay, then connects: by simultaneous open from the mapping's port, or, without
 * NAT, by accepting on the listener (a candidate also connects, in case the target listens too).
 */
export async function fire(
  prepared: Prepared,
  fightMsg: FightMessage,
  nat: NatBehaviour,
  role: 'candidate' | 'target',
  peerNodeId: string,
  started: number,
  tuning: PunchTuning,
): Promise<PunchResult> {
  const { signal } = tuning
  await waitPrecisely(fightMsg.delayMs, signal)
  const fired = performance.now()
  const { mapping, listener } = prepared
  // A SYN must live for the path's round trip before it is replaced (replacing one the peer's SYN has
  // already met leaves the old socket holding the port pair, and every later attempt fails with
  // EADDRNOTAVAIL), and the round must last a few such attempts. The path is about both sides' RTTs
  // to the server; the peer's is at most ours plus twice our FIGHT delay (the server delays the
  // nearer side by half the difference), so the path is at most twice (ours + our delay).
  const pathRttBound = 2 * (prepared.serverRttMs + fightMsg.delayMs)
  const attemptTimeout = Math.max(SYN_RETRANSMIT_MS, Math.ceil(STALL_PATH_RTTS * pathRttBound))
  const timeout = tuning.punchTimeout ?? Math.max(PUNCH_TIMEOUT_MS, ROUND_ATTEMPTS * attemptTimeout)
  const stop = new AbortController()
  const both = anySignal(signal, stop.signal)
  const connect = (localPort: number): Promise<{ socket: Socket; port: number; attempts: number }> =>
    simultaneousOpen({
      host: fightMsg.ip,
      ports: fightMsg.ports,
      localPort,
      ...(tuning.localAddress !== undefined && { localAddress: tuning.localAddress }),
      ...(tuning.maxAttempts !== undefined && { maxAttempts: tuning.maxAttempts }),
      timeout,
      attemptTimeout,
      ...(tuning.retryGap !== undefined && { retryGap: tuning.retryGap }),
      signal: both,
    })
  let opened: { socket: Socket; port: number; attempts: number; direct: boolean }
  try {
    if (listener === undefined) {
      opened = { ...(await connect(mapping?.localPort ?? 0)), direct: false }
    } else {
      const accepted = listener.accept(fightMsg.ip, timeout, both).then((socket) => ({
        socket,
        port: socket.remotePort ?? 0,
        attempts: 0,
        direct: true,
      }))
      const tries: Array<Promise<typeof opened>> = [accepted]
      if (role === 'candidate') tries.push(connect(0).then((o) => ({ ...o, direct: true })))
      opened = await firstFulfilled(tries)
    }
  } finally {
    stop.abort()
    listener?.close()
  }
  const connection = new LineSocket(opened.socket, tuning.lineOptions ?? {})
  const now = performance.now()
  return {
    connection,
    method: opened.direct ? 'direct' : nat.type === 'delta' ? 'delta-prediction' : 'simultaneous-open',
    attempts: opened.attempts,
    durationMs: now - started,
    punchMs: now - fired,
    punchId: fightMsg.punchId,
    rounds: 1,
    firedAt: performance.timeOrigin + fired,
    peer: { ip: fightMsg.ip, port: opened.port, nodeId: peerNodeId },
    localPort: opened.socket.localPort ?? 0,
  }
}

/** The first promise to fulfil; if all reject, the first rejection that is not an abort. */
async function firstFulfilled<T>(promises: Array<Promise<T>>): Promise<T> {
  try {
    return await Promise.any(promises)
  } catch (err) {
    const errors = (err as AggregateError).errors as unknown[]
    throw errors.find((e) => !(isPunchError(e) && e.code === 'ERR_ABORTED')) ?? errors[0]
  }
}
