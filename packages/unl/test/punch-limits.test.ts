// Punch limits (issue 18): PunchGuard on a manual clock, and RendezvousPuncher declining a challenge
// past a limit with REJECT, so the candidate gets @pyp2p/punch's typed ERR_PUNCH_REJECTED at once.
import { once } from 'node:events'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { manualClock } from '@pyp2p/limits'
import type { NatBehaviour } from '@pyp2p/punch'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PunchGuard, type PunchLimits, RendezvousPuncher, UNL, UnlConnector, UnlError } from '../src/index.js'

const WAIT = 10_000
const preserving: NatBehaviour = { type: 'preserving', samples: [] }

describe('PunchGuard', () => {
  const refused = (v: unknown): string | undefined =>
    v instanceof UnlError && v.code === 'ERR_PUNCH_LIMITED' ? v.limit : undefined

  it('runs up to maxConcurrent at once, queues up to maxPending, refuses past that', () => {
    const clock = manualClock()
    const g = new PunchGuard<string>({ maxConcurrent: 2, maxPending: 1, clock })
    expect([g.offer('a', 'p1'), g.offer('b', 'p2'), g.offer('c', 'p3')]).toEqual(['run', 'run', 'queued'])
    expect(refused(g.offer('d', 'p4'))).toBe('pending')
    expect({ running: g.running, pending: g.pending }).toEqual({ running: 2, pending: 1 })
    expect(g.release()).toEqual({ run: 'p3', stale: [] })
    expect({ running: g.running, pending: g.pending }).toEqual({ running: 2, pending: 0 })
    expect(g.release()).toEqual({ run: undefined, stale: [] })
    expect(g.running).toBe(1)
    // No waiting allowed: the refusal names the concurrency limit.
    const strict = new PunchGuard<string>({ maxConcurrent: 1, maxPending: 0, clock })
    expect(strict.offer('a', 'x')).toBe('run')
    expect(refused(strict.offer('b', 'y'))).toBe('concurrent')
  })

  it('a challenge that waited longer than maxWaitMs is handed back to be refused', () => {
    const clock = manualClock()
    const g = new PunchGuard<string>({ maxConcurrent: 1, maxPending: 5, maxWaitMs: 5_000, clock })
    g.offer('a', 'running')
    g.offer('b', 'old')
    clock.advance(3_000)
    g.offer('c', 'young')
    clock.advance(2_001) // 'old' waited 5,001 ms, 'young' 2,001 ms
    const { run, stale } = g.release()
    expect(run).toBe('young')
    expect(stale.map((s) => [s.item, s.error.code, s.error.limit])).toEqual([
      ['old', 'ERR_PUNCH_LIMITED', 'pending'],
    ])
    expect(stale[0]!.error.message).toMatch(/waited 5001 ms/)
  })

  it('limits punches per requester per minute, and refills on the clock', () => {
    const clock = manualClock()
    const g = new PunchGuard<string>({
      maxConcurrent: 100,
      perRequesterBurst: 2,
      perRequesterPerMinute: 2,
      clock,
    })
    expect([g.offer('a', '1'), g.offer('a', '2')]).toEqual(['run', 'run'])
    const third = g.offer('a', '3')
    expect(refused(third)).toBe('per-requester')
    expect((third as UnlError).message).toMatch(/^Punch declined: limit=per-requester /)
    expect(g.offer('b', '1')).toBe('run') // another requester is not affected
    clock.advance(30_000) // 2 a minute: one back after 30 s
    expect(g.offer('a', '4')).toBe('run')
    expect(refused(g.offer('a', '5'))).toBe('per-requester')
  })

  it('rejects nonsense limits', () => {
    const invalid = (limits: PunchLimits): UnlError | undefined => {
      try {
        new PunchGuard(limits)
      } catch (err) {
        return err as UnlError
      }
      return undefined
    }
    expect(invalid({ maxConcurrent: 0 })).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      field: 'limits.maxConcurrent',
    })
    expect(invalid({ maxPending: -1 })).toMatchObject({
      code: 'ERR_INVALID_OPTION',
      field: 'limits.maxPending',
    })
    expect(invalid({ maxWaitMs: Number.NaN })?.code).toBe('ERR_INVALID_OPTION')
    expect(invalid({ perRequesterPerMinute: 0 })?.message).toMatch(
      /perRequesterPerMinute: 0 \(expected a number >= 1\)/,
    )
    expect(invalid({ maxConcurrent: 0 })).toBeInstanceOf(UnlError)
    expect(invalid({ maxPending: 0 })).toBeUndefined()
  })
})

describe('RendezvousPuncher punch limits', () => {
  let server: BootstrapServer
  let rendezvous: { host: string; port: number }
  const cleanups: Array<() => unknown> = []
  beforeAll(async () => {
    server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
    rendezvous = { host: '127.0.0.1', port: (await server.listen()).port }
  })
  afterEach(async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn()
  })
  afterAll(() => server?.close())

  async function node(nodeId: string, wan: string, limits?: PunchLimits) {
    const puncher = await RendezvousPuncher.start({
      server: rendezvous,
      nodeId,
      nat: preserving,
      ...(limits !== undefined && { limits }),
      signal: AbortSignal.timeout(WAIT),
    })
    const unl = new UNL({
      nodeId,
      nodeType: 'simultaneous',
      natType: 'preserving',
      forwarding: 'none',
      port: 0,
      wanAddress: wan,
      lanAddress: wan,
    })
    const connector = new UnlConnector({ unl, puncher, secure: false })
    connector.on('connection', (c) => c.connection.close())
    cleanups.push(
      () => puncher.close(),
      () => connector.close(),
    )
    return { puncher, connector }
  }

  it('declines past the per-requester limit with REJECT: the candidate gets ERR_PUNCH_REJECTED naming it', async () => {
    const target = await node('cc'.repeat(20), '127.0.0.3', {
      perRequesterBurst: 1,
      perRequesterPerMinute: 1,
    })
    const candidate = await node('dd'.repeat(20), '127.0.0.2')
    const first = await candidate.connector.connectWithReport(target.connector.unl, { timeout: WAIT })
    expect(first.method).toBe('punch')
    first.connection.close()
    const refused = once(target.puncher, 'refused', { signal: AbortSignal.timeout(WAIT) })
    const err = (await candidate.connector.connect(target.connector.unl, { timeout: WAIT }).then(
      () => {
        throw new Error('expected a rejection')
      },
      (e: unknown) => e,
    )) as UnlError
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    expect(err.attempts?.[0]).toMatchObject({
      method: 'punch',
      ok: false,
      error: { code: 'ERR_PUNCH_REJECTED', stage: 'coordination' },
    })
    expect(err.attempts?.[0]?.error?.message).toMatch(/limit=per-requester/)
    const [info] = (await refused) as [{ nodeId: string; error: UnlError }]
    expect(info.nodeId).toBe('dd'.repeat(20))
    expect(info.error).toMatchObject({ code: 'ERR_PUNCH_LIMITED', limit: 'per-requester' })
  })
})
