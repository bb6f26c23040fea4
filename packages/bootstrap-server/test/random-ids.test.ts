import { PUNCH_ID_HEX_LENGTH } from '@pyp2p/rendezvous-protocol'
import { describe, expect, it } from 'vitest'
import { RANDOM_ID_POOL_IDS } from '../src/constants.js'
import { RandomIds } from '../src/random-ids.js'

describe('RandomIds (punch ids from a pool of random bytes)', () => {
  it('gives ids of the asked length in lower-case hex, none repeated across several pools', () => {
    const ids = new RandomIds(PUNCH_ID_HEX_LENGTH)
    const seen = new Set<string>()
    const count = RANDOM_ID_POOL_IDS * 3 + 7
    for (let i = 0; i < count; i++) {
      const id = ids.next()
      expect(id).toMatch(new RegExp(`^[0-9a-f]{${PUNCH_ID_HEX_LENGTH}}$`))
      seen.add(id)
    }
    // 64-bit random ids: a repeat among ~800 would be a bug (reused bytes), not chance.
    expect(seen.size).toBe(count)
  })

  it('two pools do not hand out the same ids', () => {
    const a = new RandomIds(PUNCH_ID_HEX_LENGTH)
    const b = new RandomIds(PUNCH_ID_HEX_LENGTH)
    const fromA = new Set(Array.from({ length: RANDOM_ID_POOL_IDS }, () => a.next()))
    for (let i = 0; i < RANDOM_ID_POOL_IDS; i++) expect(fromA.has(b.next())).toBe(false)
  })
})
