/**
 * The `punchLimits` option (issue 18): checked at `new Net()` with typed errors, defaults from
 * @pyp2p/unl, and handed to the puncher that answers challenges: a requester past its limit is declined
 * with ERR_PUNCH_REJECTED naming the limit.
 */
import { type PunchError, punch } from '@pyp2p/punch'
import {
  PUNCH_MAX_CONCURRENT,
  PUNCH_MAX_PENDING,
  PUNCH_PENDING_MAX_WAIT_MS,
  PUNCH_PER_REQUESTER_BURST,
  PUNCH_PER_REQUESTER_PER_MINUTE,
} from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net, type NetError, NodeIdentity } from '../src/index.js'
import { WAIT_MS } from './helpers.js'

function invalid(punchLimits: unknown): NetError | undefined {
  try {
    new Net({ punchLimits } as ConstructorParameters<typeof Net>[0])
  } catch (err) {
    return err as NetError
  }
  return undefined
}

describe('the punchLimits option', () => {
  it('defaults to @pyp2p/unl punch limits', () => {
    expect(new Net().options.punchLimits).toEqual({
      maxConcurrent: PUNCH_MAX_CONCURRENT,
      maxPending: PUNCH_MAX_PENDING,
      maxWaitMs: PUNCH_PENDING_MAX_WAIT_MS,
      perRequesterBurst: PUNCH_PER_REQUESTER_BURST,
      perRequesterPerMinute: PUNCH_PER_REQUESTER_PER_MINUTE,
    })
    expect(new Net({ punchLimits: { maxPending: 0, maxConcurrent: 3 } }).options.punchLimits).toMatchObject({
      maxPending: 0,
      maxConcurrent: 3,
    })
  })

  it('refuses values out of range with ERR_INVALID_OPTION naming the limit', () => {
    for (const [limits, name] of [
      [{ maxConcurrent: 0 }, 'punchLimits.maxConcurrent'],
      [{ maxPending: -1 }, 'punchLimits.maxPending'],
      [{ maxWaitMs: 1.5 }, 'punchLimits.maxWaitMs'],
      [{ perRequesterBurst: Number.NaN }, 'punchLimits.perRequesterBurst'],
      [{ perRequesterPerMinute: '12' }, 'punchLimits.perRequesterPerMinute'],
      [{ perMinute: 5 }, 'punchLimits.perMinute'],
      [7, 'punchLimits'],
    ] as const) {
      const err = invalid(limits)
      expect(err?.code, JSON.stringify(limits)).toBe('ERR_INVALID_OPTION')
      expect(err?.message).toContain(name)
    }
  })

  it('reach the puncher: a requester past perRequesterBurst is declined, naming the limit', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const target = await tn.createNode({
      nodeType: 'simultaneous',
      natType: 'preserving',
      punchLimits: { perRequesterBurst: 1, perRequesterPerMinute: 1 },
    })
    // A requester punching straight to the target's node id (a Net's connect would fall back to
    // other methods and hide the refusal).
    const identity = NodeIdentity.generate()
    const [host = '', port] = tn.serverAddress.split(':')
    const ask = () =>
      punch({
        server: { host, port: Number(port) },
        nodeId: identity.nodeId,
        identity,
        target: target.nodeId,
        nat: { type: 'preserving', samples: [] },
        rounds: 1,
        signal: AbortSignal.timeout(WAIT_MS),
      })
    const first = await ask()
    first.connection.close()
    const err = await ask().then(
      () => undefined,
      (e: unknown) => e as PunchError,
    )
    expect(err).toMatchObject({ code: 'ERR_PUNCH_REJECTED' })
    expect(err?.message).toMatch(/limit=per-requester/)
  })
})
