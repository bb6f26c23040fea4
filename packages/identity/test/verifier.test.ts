import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DEFAULT_VERIFIER_MAX_KEYS, NodeIdentity, Verifier, verify } from '../src/index.js'
import { codeOf } from './helpers.js'

const CONTEXT = 'pyp2p-test/1'
const DATA = ['nonce', 'server', 'PASSIVE READY 5000 10 id']

describe('Verifier', () => {
  it('verifies like verify() and keeps the key it saw', () => {
    const me = NodeIdentity.generate()
    const sig = me.sign(CONTEXT, DATA)
    const v = new Verifier()
    expect(v.maxKeys).toBe(DEFAULT_VERIFIER_MAX_KEYS)
    expect(v.verify(me.publicKey, CONTEXT, DATA, sig)).toBe(true)
    expect(v.verify(me.publicKey, CONTEXT, DATA, sig.toString('base64url'))).toBe(true)
    expect(v.verify(me.publicKeyBytes, CONTEXT, DATA, sig)).toBe(true)
    expect(v.nodeIdOf(me.publicKey)).toBe(me.nodeId)
    expect(v.stats()).toMatchObject({ size: 1, hits: 3, misses: 1, evictions: 0 })
    // A cached key still refuses what it did not sign.
    expect(v.verify(me.publicKey, CONTEXT, [...DATA.slice(0, 2), 'CLEAR'], sig)).toBe(false)
    expect(v.verify(me.publicKey, 'pyp2p-other/1', DATA, sig)).toBe(false)
  })

  it('never verifies a signature under a wrong key, cached or not, in either order', () => {
    const a = NodeIdentity.generate()
    const b = NodeIdentity.generate()
    const sigA = a.sign(CONTEXT, DATA)
    const sigB = b.sign(CONTEXT, DATA)
    const v = new Verifier({ maxKeys: 4 })
    expect(v.verify(a.publicKey, CONTEXT, DATA, sigA)).toBe(true)
    expect(v.verify(b.publicKey, CONTEXT, DATA, sigB)).toBe(true)
    // Both keys cached now: each one's signature is checked against its own key only.
    expect(v.verify(a.publicKey, CONTEXT, DATA, sigB)).toBe(false)
    expect(v.verify(b.publicKey, CONTEXT, DATA, sigA)).toBe(false)
    expect(v.nodeIdOf(a.publicKey)).toBe(a.nodeId)
    expect(v.nodeIdOf(b.publicKey)).toBe(b.nodeId)
  })

  it('never lets another spelling of a key reach a cached entry', () => {
    const me = NodeIdentity.generate()
    const sig = me.sign(CONTEXT, DATA)
    const v = new Verifier({ maxKeys: 4 })
    expect(v.verify(me.publicKey, CONTEXT, DATA, sig)).toBe(true)
    // 43 base64url characters carry 258 bits: flipping the 2 spare bits spells the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const last = alphabet.indexOf(me.publicKey.at(-1) as string)
    const other = me.publicKey.slice(0, -1) + alphabet[last ^ 1]
    expect(Buffer.from(other, 'base64url').equals(me.publicKeyBytes)).toBe(true)
    expect(v.verify(other, CONTEXT, DATA, sig)).toBe(false)
    expect(codeOf(() => v.nodeIdOf(other))).toBe('ERR_INVALID_PUBLIC_KEY')
    expect(v.size).toBe(1)
  })

  it('holds at most maxKeys keys and evicts the least recently used first', () => {
    const ids = Array.from({ length: 5 }, () => NodeIdentity.generate())
    const sigs = ids.map((id) => id.sign(CONTEXT, DATA))
    const v = new Verifier({ maxKeys: 3 })
    const check = (i: number): boolean =>
      v.verify((ids[i] as NodeIdentity).publicKey, CONTEXT, DATA, sigs[i] as Buffer)
    expect([check(0), check(1), check(2)]).toEqual([true, true, true])
    expect(check(0)).toBe(true) // 0 is now the most recently used; 1 the least
    expect(check(3)).toBe(true) // evicts 1
    expect(v.size).toBe(3)
    expect(v.stats()).toMatchObject({ hits: 1, misses: 4, evictions: 1 })
    expect(check(0)).toBe(true) // still cached: a hit
    expect(v.stats().hits).toBe(2)
    expect(check(1)).toBe(true) // was evicted: a miss, and it still verifies; evicts 2
    expect(v.stats()).toMatchObject({ hits: 2, misses: 5, evictions: 2, size: 3 })
    expect(check(2)).toBe(true)
    expect(v.stats()).toMatchObject({ misses: 6, evictions: 3, size: 3 })
  })

  it('keeps the bound under any sequence of keys, valid or not', () => {
    const ids = Array.from({ length: 6 }, () => NodeIdentity.generate())
    const sigs = ids.map((id) => id.sign(CONTEXT, DATA))
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.array(fc.oneof(fc.integer({ min: 0, max: 5 }), fc.string({ maxLength: 50 })), { maxLength: 40 }),
        (maxKeys, picks) => {
          const v = new Verifier({ maxKeys })
          for (const pick of picks) {
            if (typeof pick === 'number') {
              const id = ids[pick] as NodeIdentity
              expect(v.verify(id.publicKey, CONTEXT, DATA, sigs[pick] as Buffer)).toBe(true)
              // And never with another key's signature.
              expect(v.verify(id.publicKey, CONTEXT, DATA, sigs[(pick + 1) % ids.length] as Buffer)).toBe(
                false,
              )
            } else {
              expect(v.verify(pick, CONTEXT, DATA, sigs[0] as Buffer)).toBe(false)
            }
            expect(v.size).toBeLessThanOrEqual(maxKeys)
          }
        },
      ),
    )
  })

  it('does not cache keys that do not parse, and maxKeys 0 caches nothing', () => {
    const v = new Verifier({ maxKeys: 0 })
    const me = NodeIdentity.generate()
    expect(v.verify(me.publicKey, CONTEXT, DATA, me.sign(CONTEXT, DATA))).toBe(true)
    expect(v.size).toBe(0)
    const w = new Verifier({ maxKeys: 2 })
    expect(w.verify('short', CONTEXT, DATA, me.sign(CONTEXT, DATA))).toBe(false)
    expect(w.verify(new Uint8Array(31), CONTEXT, DATA, me.sign(CONTEXT, DATA))).toBe(false)
    expect(codeOf(() => w.nodeIdOf('short'))).toBe('ERR_INVALID_PUBLIC_KEY')
    expect(w.size).toBe(0)
  })

  it('agrees with verify() on a key that is not a curve point, and on malformed signatures', () => {
    const notAPoint = Buffer.alloc(32, 0xff).toString('base64url')
    const v = new Verifier()
    expect(v.verify(notAPoint, CONTEXT, DATA, new Uint8Array(64))).toBe(false)
    expect(verify(notAPoint, CONTEXT, DATA, new Uint8Array(64))).toBe(false)
    const me = NodeIdentity.generate()
    expect(v.verify(me.publicKey, CONTEXT, DATA, new Uint8Array(63))).toBe(false)
    expect(v.verify(me.publicKey, CONTEXT, DATA, 'not base64url!')).toBe(false)
    expect(codeOf(() => v.verify(me.publicKey, 'has space', DATA, new Uint8Array(64)))).toBe(
      'ERR_INVALID_CONTEXT',
    )
  })

  it('refuses an invalid maxKeys with a typed error', () => {
    expect(codeOf(() => new Verifier({ maxKeys: -1 }))).toBe('ERR_INVALID_OPTION')
    expect(codeOf(() => new Verifier({ maxKeys: 1.5 }))).toBe('ERR_INVALID_OPTION')
  })
})
