/**
 * The target side of punches, for `RendezvousPuncher`: answers the `CHALLENGE`s arriving on the
 * session's connections through @pyp2p/punch's `acceptChallenge`, within the punch limits of
 * punch-guard.ts (a refused challenge gets `REJECT <punch-id> limit=...` at once, so its candidate
 * hears a typed `ERR_PUNCH_REJECTED` instead of waiting for the server's challenge timeout).
 */
import {
  acceptChallenge,
  type NatBehaviour,
  type PunchError,
  type PunchTuning,
  type RendezvousClient,
  type ServerAddress,
} from '@pyp2p/punch'
import createDebug from 'debug'
import type { UnlError } from './errors.js'
import { PunchGuard, type PunchLimits } from './punch-guard.js'
import type { PunchedConnection } from './puncher.js'

const log = createDebug('pyp2p:unl:punch')

/** A `REJECT` reason is at most 256 printable characters (PROTOCOL.md, "Fields"). */
const REJECT_REASON_MAX = 256

type ChallengeMessage = Parameters<typeof acceptChallenge>[0]

/** A challenge on one of the session's connections. */
interface Challenge {
  client: RendezvousClient
  server: ServerAddress
  challenge: ChallengeMessage
}

export interface ChallengeAnswererOptions {
  /** @pyp2p/punch's tuning (RendezvousPuncher's, without what it sets itself). */
  tuning: Omit<PunchTuning, 'signal' | 'nat'>
  limits: PunchLimits | undefined
  /** Our NAT when known (acceptChallenge detects it otherwise). */
  nat(): NatBehaviour | undefined
  /** Stops everything: punches in progress are aborted, waiting challenges dropped. */
  signal: AbortSignal
  onConnection(punched: PunchedConnection): void
  onRefused(info: { nodeId: string; punchId: string; error: UnlError }): void
}

export class ChallengeAnswerer {
  readonly #o: ChallengeAnswererOptions
  readonly #guard: PunchGuard<Challenge>

  constructor(o: ChallengeAnswererOptions) {
    this.#o = o
    this.#guard = new PunchGuard(o.limits)
    o.signal.addEventListener('abort', () => this.#guard.drain(), { once: true })
  }

  /** Punches running and challenges waiting now. */
  get load(): { running: number; pending: number } {
    return { running: this.#guard.running, pending: this.#guard.pending }
  }

  /** Answers the challenges arriving on `client`; returns a function that stops listening. */
  answer(client: RendezvousClient, server: ServerAddress): () => void {
    const onChallenge = (challenge: ChallengeMessage): void => {
      if (this.#o.signal.aborted) return
      const item = { client, server, challenge }
      const admission = this.#guard.offer(challenge.nodeId, item)
      if (admission === 'run') this.#run(item)
      else if (admission !== 'queued') this.#refuse(item, admission)
    }
    client.on('challenge', onChallenge)
    return () => {
      client.off('challenge', onChallenge)
    }
  }

  /** Takes part in one punch (a slot is ours); the slot goes to the next waiting challenge after. */
  #run({ client, server, challenge }: Challenge): void {
    const { signal } = this.#o
    const known = this.#o.nat()
    const nat = known === undefined ? {} : { nat: known }
    acceptChallenge(challenge, { ...this.#o.tuning, ...nat, client, server, signal })
      .then(
        (result) => {
          if (signal.aborted) return result.connection.close()
          log('punched from %s (%s)', result.peer.nodeId, result.method)
          this.#o.onConnection({ connection: result.connection, nodeId: result.peer.nodeId })
        },
        (err: unknown) => {
          const e = err as PunchError
          log('punch from %s failed: %s (%s)', challenge.nodeId, e.code, e.message)
        },
      )
      .finally(() => {
        const { run, stale } = this.#guard.release()
        for (const s of stale) this.#refuse(s.item, s.error)
        if (run !== undefined && !signal.aborted) this.#run(run)
      })
  }

  /** Declines a challenge: `REJECT` with the limit's reason. */
  #refuse({ client, challenge }: Challenge, error: UnlError): void {
    log('challenge %s from %s declined: %s', challenge.punchId, challenge.nodeId, error.message)
    const reason = error.message.replace(/^Punch declined: /, '').slice(0, REJECT_REASON_MAX)
    client.reject(challenge.punchId, reason).catch((err: unknown) => {
      log('REJECT %s not sent: %s', challenge.punchId, (err as Error).message)
    })
    this.#o.onRefused({ nodeId: challenge.nodeId, punchId: challenge.punchId, error })
  }
}
