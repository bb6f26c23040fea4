/**
 * The two sides of a punch. The candidate calls {@link punch} with the target's node id; the target,
 * registered with `SIMULTANEOUS READY`, answers each `challenge` with {@link acceptChallenge} (or lets
 * {@link acceptChallenges} do it). Both learn their own mapping from a fresh local port through a
 * second server connection from that port, exchange predictions through the server, wait the delay the
 * server computed from the round trips it measured, then run {@link simultaneousOpen} from that port.
 */

import { anySignal } from '@pyp2p/framing'
import type { ChallengeMessage, FightMessage } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { FIGHT_TIMEOUT_MS, PUNCH_ROUNDS } from './constants.js'
import { isPunchError, PunchError } from './errors.js'
import {
  closePrepared,
  declareInbound,
  fire,
  ownNat,
  type Prepared,
  type PunchResult,
  type PunchTuning,
  prepare,
  restage,
} from './fight.js'
import type { NatBehaviour } from './nat-type.js'
import type { RendezvousClient, ServerAddress } from './rendezvous-client.js'

export type { PunchMethod, PunchResult, PunchTuning } from './fight.js'

const log = createDebug('pyp2p:punch')

export interface PunchOptions extends PunchTuning {
  server: ServerAddress
  /** Own node id. */
  nodeId: string
  /** Node id of the simultaneous node to reach. */
  target: string
  /** How long to wait for `FIGHT` after `PREDICTION SET`; default {@link FIGHT_TIMEOUT_MS}. */
  fightTimeout?: number
  /**
   * Punch rounds (each with fresh ports on both sides) when the simultaneous open fails; default
   * {@link PUNCH_ROUNDS}.
   */
  rounds?: number
}

/**
 * Candidate side: punch a connection to the simultaneous node `target`. Throws `PunchError`:
 * stage `detection` (own NAT unpredictable, server unreachable while detecting), `coordination`
 * (`ERR_SERVER_ERROR` with `serverCode: 'ERR_NO_SUCH_NODE'`, `ERR_PUNCH_REJECTED`, `ERR_PEER_GONE`,
 * `ERR_TIMEOUT`), or `punch` (`ERR_PUNCH_FAILED`).
 */
export async function punch(options: PunchOptions): Promise<PunchResult> {
  const { server, nodeId, target, signal } = options
  const started = performance.now()
  let nat: NatBehaviour
  try {
    nat = await ownNat(options, server, nodeId)
    if (nat.type === 'random') throw PunchError.NAT_UNPREDICTABLE(nat.samples.length)
  } catch (err) {
    throw restage(err, 'detection', signal)
  }
  const rounds = options.rounds ?? PUNCH_ROUNDS
  for (let round = 1; ; round++) {
    try {
      const result = await punchRound(options, nat, started)
      return { ...result, rounds: round }
    } catch (err) {
      // Only a failed simultaneous open is worth another round (fresh ports on both sides): a mapping
      // spoiled by an unlucky race at a router does not recover within its own round.
      if (round >= rounds || signal?.aborted || !(isPunchError(err) && err.code === 'ERR_PUNCH_FAILED'))
        throw err
      log('punch to %s: round %d failed (%s), trying again with fresh ports', target, round, err.message)
    }
  }
}

/** One round: fresh mapping, `CANDIDATE`, `FIGHT`, simultaneous open. */
async function punchRound(options: PunchOptions, nat: NatBehaviour, started: number): Promise<PunchResult> {
  const { server, nodeId, target, signal } = options
  let prepared: Prepared | undefined
  let fightMsg: FightMessage
  try {
    prepared = await prepare(server, nodeId, nat, options)
    const mapping = prepared.mapping!
    declareInbound(mapping, nat, prepared)
    const punchId = await mapping.candidate(target, prepared.ports, signal === undefined ? {} : { signal })
    log('punch %s: candidate %s -> %s, predicted %o', punchId, nodeId, target, prepared.ports)
    fightMsg = await mapping.waitForFight(punchId, {
      timeout: options.fightTimeout ?? FIGHT_TIMEOUT_MS,
      ...(signal !== undefined && { signal }),
    })
  } catch (err) {
    closePrepared(prepared)
    throw restage(err, 'coordination', signal)
  }
  try {
    return await fire(prepared, fightMsg, nat, 'candidate', target, started, options)
  } catch (err) {
    throw restage(err, 'punch', signal)
  } finally {
    closePrepared(prepared)
  }
}

export interface AcceptChallengeOptions extends PunchTuning {
  /** The registration connection the challenge arrived on (`SIMULTANEOUS READY`). */
  client: RendezvousClient
  server: ServerAddress
}

/**
 * Target side: answer one `CHALLENGE` with `ACCEPT` and punch to the candidate. A NAT that cannot be
 * predicted answers `REJECT` and throws `ERR_NAT_UNPREDICTABLE`. Errors as for {@link punch}.
 */
export async function acceptChallenge(
  challenge: ChallengeMessage,
  options: AcceptChallengeOptions,
): Promise<PunchResult> {
  const { client, server, signal } = options
  const started = performance.now()
  let nat: NatBehaviour
  try {
    nat = await ownNat(options, server, client.nodeId)
  } catch (err) {
    await client.reject(challenge.punchId, 'NAT detection failed').catch(() => undefined)
    throw restage(err, 'detection', signal)
  }
  if (nat.type === 'random') {
    await client.reject(challenge.punchId, 'unpredictable NAT (random ports)').catch(() => undefined)
    throw PunchError.NAT_UNPREDICTABLE(nat.samples.length)
  }
  let prepared: Prepared | undefined
  let fightMsg: FightMessage
  try {
    prepared = await prepare(server, client.nodeId, nat, options)
    log(
      'punch %s: target %s accepts %s, predicted %o',
      challenge.punchId,
      client.nodeId,
      challenge.nodeId,
      prepared.ports,
    )
    declareInbound(client, nat, prepared)
    fightMsg = await client.accept(challenge.punchId, prepared.ports, signal === undefined ? {} : { signal })
  } catch (err) {
    closePrepared(prepared)
    if (prepared === undefined)
      await client.reject(challenge.punchId, 'cannot reach the server').catch(() => undefined)
    throw restage(err, 'coordination', signal)
  }
  try {
    return await fire(prepared, fightMsg, nat, 'target', challenge.nodeId, started, options)
  } catch (err) {
    throw restage(err, 'punch', signal)
  } finally {
    closePrepared(prepared)
  }
}

export interface AcceptChallengesOptions extends Omit<AcceptChallengeOptions, 'signal'> {
  onConnection(result: PunchResult, challenge: ChallengeMessage): void
  onError?(error: PunchError, challenge: ChallengeMessage): void
  /** Stops accepting (and aborts punches in progress) when it fires. */
  signal?: AbortSignal
}

/** Answers every `challenge` on `client` until `signal` fires; returns a function that stops it. */
export function acceptChallenges(options: AcceptChallengesOptions): () => void {
  const { client, onConnection, onError, signal } = options
  const stop = new AbortController()
  const combined = anySignal(signal, stop.signal)
  const onChallenge = (challenge: ChallengeMessage): void => {
    acceptChallenge(challenge, { ...options, signal: combined }).then(
      (result) => {
        if (combined.aborted) result.connection.close()
        else onConnection(result, challenge)
      },
      (err: unknown) => {
        const error = restage(err, 'punch', undefined)
        log('challenge %s failed: %s', challenge.punchId, error.message)
        onError?.(error, challenge)
      },
    )
  }
  const off = (): void => {
    client.off('challenge', onChallenge)
    stop.abort()
  }
  client.on('challenge', onChallenge)
  combined.addEventListener('abort', off, { once: true })
  return off
}
