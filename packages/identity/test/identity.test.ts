import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  IdentityError,
  isNodeId,
  NodeIdentity,
  nodeIdFromPublicKey,
  parsePublicKey,
  signedBytes,
  verify,
  verifyChallenge,
} from '../src/index.js'
import { codeOf } from './helpers.js'

// Made with @pyp2p/dht-msg's NodeIdentity (packages/dht-msg/src/identity.ts) from the seed 32 × 0x07:
// ids and relay signatures from before this package must stay valid.
const DHT_MSG = {
  secret: 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc',
  nodeId: 'fe812c12f3ab4ce6ac5db69ac352f906cb1b11ef',
  publicKey: '6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw',
  challenge: 'challenge-1',
  signature: 'dAAC5sCBkLFfLwHbxy37dQIAGHRL7oOyT43Y5aCLvBAZNu_BrjpcEZsgfWnf_4g9tHz2XfTIVGNevQ_y12QjAg',
}

describe('NodeIdentity', () => {
  it('derives the same node id and relay signature as @pyp2p/dht-msg did', () => {
    const id = NodeIdentity.fromSecret(DHT_MSG.secret)
    expect(id.nodeId).toBe(DHT_MSG.nodeId)
    expect(id.publicKey).toBe(DHT_MSG.publicKey)
    expect(id.secret).toBe(DHT_MSG.secret)
    expect(id.signChallenge(DHT_MSG.challenge)).toBe(DHT_MSG.signature)
    expect(verifyChallenge(DHT_MSG.nodeId, DHT_MSG.challenge, DHT_MSG.publicKey, DHT_MSG.signature)).toBe(
      true,
    )
    expect(verifyChallenge(DHT_MSG.nodeId, 'other', DHT_MSG.publicKey, DHT_MSG.signature)).toBe(false)
  })

  it('generates distinct identities that round-trip through their secret, as text or bytes', () => {
    const a = NodeIdentity.generate()
    const b = NodeIdentity.generate()
    expect(a.nodeId).not.toBe(b.nodeId)
    expect(isNodeId(a.nodeId)).toBe(true)
    expect(NodeIdentity.fromSecret(a.secret).nodeId).toBe(a.nodeId)
    expect(NodeIdentity.fromSecret(Buffer.from(a.secret, 'base64url')).nodeId).toBe(a.nodeId)
    expect(nodeIdFromPublicKey(a.publicKeyBytes)).toBe(a.nodeId)
    expect(JSON.stringify(a)).not.toContain(a.secret)
  })

  it('rejects malformed secrets and public keys with typed errors', () => {
    expect(codeOf(() => NodeIdentity.fromSecret('short'))).toBe('ERR_INVALID_SECRET')
    expect(codeOf(() => NodeIdentity.fromSecret(new Uint8Array(31)))).toBe('ERR_INVALID_SECRET')
    // 43 characters whose last one carries non-zero padding bits: a second spelling of a key.
    expect(codeOf(() => NodeIdentity.fromSecret(`${DHT_MSG.secret.slice(0, 42)}d`))).toBe(
      'ERR_INVALID_SECRET',
    )
    expect(codeOf(() => parsePublicKey('!'.repeat(43)))).toBe('ERR_INVALID_PUBLIC_KEY')
  })
})

describe('domain-separated signatures', () => {
  const id = NodeIdentity.fromSecret(DHT_MSG.secret)

  it('verifies only for the same key, context and data', () => {
    const sig = id.sign('pyp2p-rendezvous-register/1', ['nonce', 'server-id', 'PASSIVE READY 5000'])
    const data = ['nonce', 'server-id', 'PASSIVE READY 5000']
    expect(verify(id.publicKey, 'pyp2p-rendezvous-register/1', data, sig)).toBe(true)
    expect(verify(id.publicKeyBytes, 'pyp2p-rendezvous-register/1', data, sig.toString('base64url'))).toBe(
      true,
    )
    expect(verify(id.publicKey, 'pyp2p-rendezvous-clear/1', data, sig)).toBe(false)
    expect(
      verify(id.publicKey, 'pyp2p-rendezvous-register/1', ['nonce', 'other-server', data[2] as string], sig),
    ).toBe(false)
    expect(verify(NodeIdentity.generate().publicKey, 'pyp2p-rendezvous-register/1', data, sig)).toBe(false)
  })

  it('frames fields so that moving bytes between them changes what is signed', () => {
    expect(signedBytes('ctx', ['ab', 'c']).equals(signedBytes('ctx', ['a', 'bc']))).toBe(false)
    expect(signedBytes('ctx', 'abc').equals(signedBytes('ctx', ['abc']))).toBe(false)
    expect(signedBytes('a', 'bc').equals(signedBytes('ab', 'c'))).toBe(false)
  })

  it('never signs bytes a relay AUTH signature covers', () => {
    const relayMessage = `pyp2p-relay-auth/1|${id.nodeId}|x`
    expect(signedBytes('pyp2p-relay-auth/1', 'x').toString('latin1').startsWith('pyp2p-relay-auth')).toBe(
      false,
    )
    const sig = id.sign('ctx', relayMessage).toString('base64url')
    expect(verifyChallenge(id.nodeId, 'x', id.publicKey, sig)).toBe(false)
  })

  it('rejects bad contexts with ERR_INVALID_CONTEXT', () => {
    expect(codeOf(() => id.sign('', 'x'))).toBe('ERR_INVALID_CONTEXT')
    expect(codeOf(() => id.sign('has space', 'x'))).toBe('ERR_INVALID_CONTEXT')
    expect(codeOf(() => id.sign('x'.repeat(256), 'x'))).toBe('ERR_INVALID_CONTEXT')
  })

  it('verify never throws for any key or signature (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.uint8Array({ maxLength: 40 })),
        fc.oneof(fc.string(), fc.uint8Array({ maxLength: 80 })),
        fc.uint8Array({ maxLength: 64 }),
        (key, sig, data) => {
          expect(verify(key, 'ctx', data, sig)).toBe(false)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('secrets and public keys parse or throw IdentityError, nothing else (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 50 }), fc.uint8Array({ maxLength: 40 })), (input) => {
        for (const fn of [() => NodeIdentity.fromSecret(input), () => nodeIdFromPublicKey(input)]) {
          try {
            fn()
          } catch (err) {
            expect(err).toBeInstanceOf(IdentityError)
          }
        }
      }),
      { numRuns: 300 },
    )
  })
})
