import { plainAddress } from '@pyp2p/framing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('plainAddress', () => {
  it('unwraps an IPv4-mapped IPv6 address and leaves every other address alone', () => {
    expect(plainAddress('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(plainAddress('10.1.0.2')).toBe('10.1.0.2')
    expect(plainAddress('::1')).toBe('::1')
    expect(plainAddress('::ffff:abcd')).toBe('::ffff:abcd') // not a dotted IPv4 tail
    expect(plainAddress('')).toBe('')
  })

  it('is the identity on plain IPv4 and the inverse of mapping', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(plainAddress(ip)).toBe(ip)
        expect(plainAddress(`::ffff:${ip}`)).toBe(ip)
      }),
    )
  })
})
