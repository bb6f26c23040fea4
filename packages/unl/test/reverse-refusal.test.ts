// A reverse-connect request refused by the peer's rate limit is answered, through the relay, with a
// typed refusal (`REVERSE_REFUSED`), and the requester's connect report shows ERR_REVERSE_REFUSED at
// once instead of waiting for its reverse timeout (issue 16 item 5).
import { once } from 'node:events'
import type { TransportMessage } from '@pyp2p/dht-msg'
import { describe, expect, it } from 'vitest'
import {
  formatReverseRefusal,
  type IncomingConnection,
  parseReverseRefusal,
  REVERSE_REFUSALS_PER_SENDER,
  ReverseGuard,
  type ReverseLimits,
  UnlError,
} from '../src/index.js'
import { ReverseRefusals } from '../src/reverse-request.js'
import { loopbackNodes, WAIT } from './loopback-nodes.js'

const { startNode } = loopbackNodes()
/** A node on its own loopback address, with the relay as transport; passive ones listen. */
const node = (wan: string, passive: boolean, reverseLimits?: ReverseLimits) =>
  startNode({
    wan,
    nodeType: passive ? 'passive' : 'active',
    ...(reverseLimits !== undefined && { reverseLimits }),
  })

describe('a reverse-connect request refused by a rate limit', () => {
  it("is answered through the relay: the requester's report shows ERR_REVERSE_REFUSED", async () => {
    const a = await node('127.0.0.2', true)
    const b = await node('127.0.0.3', false, { perSender: 1 })
    const dialled = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const first = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(first.method).toBe('reverse')
    ;((await dialled)[0] as IncomingConnection).connection.close()
    first.connection.close()

    // The second request is past b's limit of one per sender. A timeout far beyond the test's bound:
    // only b's answer can end the reverse attempt in time.
    const refused = once(b.connector, 'refused', { signal: AbortSignal.timeout(WAIT) })
    const err = await a.connector.connectWithReport(b.unl, { timeout: 10 * 60_000 }).then(
      () => {
        throw new Error('expected a refusal')
      },
      (e: unknown) => e as UnlError,
    )
    expect((await refused)[0]).toMatchObject({ error: { refusal: 'rate-limited' } })
    expect(err).toBeInstanceOf(UnlError)
    const reverse = err.attempts?.find((x) => x.method === 'reverse')
    expect(reverse).toMatchObject({
      ok: false,
      error: { code: 'ERR_REVERSE_REFUSED', refusal: 'rate-limited' },
    })
    expect(reverse?.error?.message).toMatch(/refused our reverse-connect request \(rate-limited\)/)
    expect(err.message).toMatch(/rate limited/)
  })
})

describe('REVERSE_REFUSED', () => {
  const nonce = 'ab'.repeat(32)
  const from = 'cd'.repeat(20)

  it('formats and parses; anything else is not a refusal', () => {
    const line = formatReverseRefusal(nonce, 'rate-limited', 'too many\r\nrequests')
    expect(line).toBe(`REVERSE_REFUSED ${nonce} rate-limited too many requests`)
    expect(parseReverseRefusal(line)).toEqual({ nonce, reason: 'rate-limited', text: 'too many requests' })
    expect(parseReverseRefusal(`REVERSE_REFUSED ${nonce} rate-limited`)?.text).toBe('')
    for (const bad of ['REVERSE_REFUSED', `REVERSE_REFUSED 12 x`, `REVERSE_REFUSED ${nonce} BAD`, 'hello'])
      expect(parseReverseRefusal(bad)).toBeUndefined()
  })

  it('reaches only the request it names, and only from the node asked', () => {
    const refusals = new ReverseRefusals()
    const got: UnlError[] = []
    const stop = refusals.expect(nonce, from, (e) => got.push(e))
    const msg = (sender: string, text: string): TransportMessage => ({ from: sender, id: '1', message: text })
    const line = formatReverseRefusal(nonce, 'rate-limited', 'x')
    expect(refusals.handle(msg('ef'.repeat(20), line))).toBe(true) // another node: ignored
    expect(refusals.handle(msg(from, formatReverseRefusal('00'.repeat(32), 'rate-limited', 'x')))).toBe(true)
    expect(got).toEqual([])
    expect(refusals.handle(msg(from, 'REVERSE_CONNECT x y'))).toBe(false) // not a refusal: for the guard
    expect(refusals.handle(msg(from, line))).toBe(true)
    expect(got.map((e) => [e.code, e.refusal])).toEqual([['ERR_REVERSE_REFUSED', 'rate-limited']])
    stop()
    refusals.handle(msg(from, line))
    expect(got).toHaveLength(1)
  })

  it('is sent at most REVERSE_REFUSALS_PER_SENDER times per sender per window', () => {
    const guard = new ReverseGuard({ window: 1_000 })
    const answers = (n: number, t: number): boolean[] =>
      Array.from({ length: n }, () => guard.answerRefusal(from, t))
    expect(answers(REVERSE_REFUSALS_PER_SENDER + 2, 0)).toEqual([
      ...Array(REVERSE_REFUSALS_PER_SENDER).fill(true),
      false,
      false,
    ])
    expect(guard.answerRefusal('ef'.repeat(20), 0)).toBe(true) // another sender
    expect(guard.answerRefusal(from, 1_000)).toBe(true) // the next window
  })
})
