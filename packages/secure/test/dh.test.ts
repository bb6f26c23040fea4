// X25519 as the handshake uses it (src/noise/dh.ts): RFC 7748's test vector, both directions, and the
// low-order public keys whose shared secret is all zeros, which must throw (the handshake fails them).
import { describe, expect, it } from 'vitest'
import { dh, dhKeyPairFromPrivate, generateDhKeyPair } from '../src/noise/dh.js'

const hex = (s: string): Buffer => Buffer.from(s, 'hex')

describe('X25519 (RFC 7748)', () => {
  it('matches the section 6.1 test vector both ways', () => {
    const alice = dhKeyPairFromPrivate(
      hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
    )
    const bob = dhKeyPairFromPrivate(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'))
    expect(alice.publicKey.toString('hex')).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    )
    expect(bob.publicKey.toString('hex')).toBe(
      'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
    )
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
    expect(dh(alice.privateKey, bob.publicKey).toString('hex')).toBe(shared)
    expect(dh(bob.privateKey, alice.publicKey).toString('hex')).toBe(shared)
  })

  it('throws for low-order public keys and keys of the wrong length', () => {
    const { privateKey } = generateDhKeyPair()
    expect(() => dh(privateKey, Buffer.alloc(32))).toThrow()
    expect(() => dh(privateKey, hex(`01${'00'.repeat(31)}`))).toThrow()
    expect(() => dh(privateKey, Buffer.alloc(31, 9))).toThrow()
  })

  it('accepts a key that is a view into a larger buffer', () => {
    const a = generateDhKeyPair()
    const b = generateDhKeyPair()
    const padded = Buffer.concat([Buffer.alloc(5, 1), b.publicKey, Buffer.alloc(3, 2)])
    expect(dh(a.privateKey, padded.subarray(5, 37))).toEqual(dh(b.privateKey, a.publicKey))
  })
})
