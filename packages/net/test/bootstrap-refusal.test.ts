/**
 * Issue 18: a bootstrap() connect that a node refused as a duplicate (both punched or asked at once;
 * the survivor rule keeps the other connection at both ends) is not an unreachable node: it is told
 * apart by the refusal of the connect's last attempt (the connector stops at a final refusal).
 */
import { UnlError } from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { refusalOf } from '../src/net-bootstrap.js'

const failed = (...attempts: Array<{ error: Error; skipped?: boolean }>) =>
  UnlError.CONNECT_FAILED(attempts.map((a) => ({ method: 'punch' as const, ok: false, durationMs: 1, ...a })))

describe('refusalOf', () => {
  it('the refusal of the last attempt tried: ours of their answer, or theirs', () => {
    const ours = UnlError.NOT_ADMITTED('ab'.repeat(20), 'ERR_DUPLICATE', 'already connected')
    expect(refusalOf(failed({ error: ours }))).toBe('ERR_DUPLICATE')
    const theirs = UnlError.PEER_REFUSED('ERR_DUPLICATE', 'already connected')
    const notTried = { error: new Error('not tried'), skipped: true }
    expect(refusalOf(failed({ error: new Error('ECONNREFUSED') }, { error: theirs }, notTried))).toBe(
      'ERR_DUPLICATE',
    )
  })

  it('none for a failure that is no refusal, or an earlier refusal the connector went past', () => {
    expect(refusalOf(failed({ error: new Error('ECONNREFUSED') }))).toBeUndefined()
    const limited = UnlError.REVERSE_REFUSED('ab'.repeat(20), 'rate-limited', 'x')
    expect(refusalOf(failed({ error: limited }, { error: new Error('punch failed') }))).toBeUndefined()
    expect(refusalOf(new Error('no attempts'))).toBeUndefined()
  })
})
