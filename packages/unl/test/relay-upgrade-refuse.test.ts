import { LineSocket } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import { RelayedLines } from '../src/relay-lines.js'
import { answerUpgrades, type UpgradeHost } from '../src/relay-upgrade.js'
import { UNL } from '../src/unl.js'
import { socketPair } from './socket-pair.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const pair = () => socketPair(cleanups)

const ours = new UNL({
  nodeId: 'a'.repeat(40),
  nodeType: 'passive',
  natType: 'unknown',
  forwarding: 'none',
  port: 1,
  wanAddress: '127.0.0.1',
  lanAddress: '127.0.0.1',
})

describe('relay upgrade: the answering end', () => {
  it('a refused connection ends the wait for it at once (forgotten, no switch expected, one try only)', async () => {
    const [sa, sb] = await pair()
    const lines = new RelayedLines({ circuit: new LineSocket(sa) })
    const peer = new LineSocket(sb)
    const waits: Array<{ nonce: string; refuse: (err: Error) => void }> = []
    let forgotten = 0
    const host: UpgradeHost = {
      enabled: true,
      ours: () => ours,
      punch: false,
      attempt: () => Promise.reject(new Error('not used by the answering end')),
      failed: () => {},
      expect: (nonce, _nodeId, _resolve, refuse) => {
        waits.push({ nonce, refuse })
        return () => forgotten++
      },
      closing: new AbortController().signal,
      timeout: 60_000, // the timer that would otherwise end the wait
    }
    const onControl = answerUpgrades(lines, 'b'.repeat(40), host)
    const nonce = 'c'.repeat(64)
    onControl('UPGRADE', nonce)
    expect(waits.map((w) => w.nonce)).toEqual([nonce])
    expect(lines.expectingSwitch).toBe(true)
    expect(await peer.readLine({ timeout: 10_000 })).toMatch(/^.UNL /) // our UNL went to the dialler
    waits[0]!.refuse(new Error('ERR_NOT_ADMITTED: a duplicate'))
    expect(forgotten).toBe(1)
    expect(lines.expectingSwitch).toBe(false)
    // The one try is spent: another UPGRADE on this circuit is declined.
    onControl('UPGRADE', 'd'.repeat(64))
    expect(waits).toHaveLength(1)
    expect(await peer.readLine({ timeout: 10_000 })).toMatch(/^.NO$/)
    lines.connection.close()
    peer.close()
  })
})
