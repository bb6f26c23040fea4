import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkPrefixLengths, LimitsError, networkKeys } from '../src/index.js'

/** The 128 bits of an IPv6 address as a bigint, from Node's own URL parser (an independent reference). */
function bits(ip: string): bigint {
  const host = new URL(`http://[${ip}]/`).hostname.slice(1, -1)
  const [head = '', tail] = host.split('::')
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t]
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n)
}

describe('networkKeys', () => {
  it('IPv4: the address is one IP, its /24 the prefix', () => {
    expect(networkKeys('10.9.9.77')).toEqual({
      family: 4,
      address: '10.9.9.77',
      host: '10.9.9.77',
      prefix: '10.9.9.0/24',
    })
  })

  it('IPv6: the /64 is one IP, the /48 the prefix; zone ids are ignored', () => {
    expect(networkKeys('FD00:9:0:0:0:0:0:1%lo')).toEqual({
      family: 6,
      address: 'fd00:9::1',
      host: 'fd00:9::/64',
      prefix: 'fd00:9::/48',
    })
    expect(networkKeys('2001:db8:1:2:3:4:5:6').host).toBe('2001:db8:1:2::/64')
    expect(networkKeys('2001:db8:1:2:3:4:5:6').prefix).toBe('2001:db8:1::/48')
  })

  it('IPv4-mapped IPv6 counts as the IPv4 address, in either spelling', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const plain = networkKeys(v4)
        const o = v4.split('.').map(Number)
        const hex = `::ffff:${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`
        expect(networkKeys(`::ffff:${v4}`)).toEqual(plain)
        expect(networkKeys(hex)).toEqual(plain)
        expect(networkKeys(`0:0:0:0:0:FFFF:${v4}`)).toEqual(plain)
      }),
    )
  })

  it('IPv4 prefixes match the top bits, for any length', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 1, max: 32 }), (v4, len) => {
        const n = v4.split('.').reduce((a, o) => a * 256 + Number(o), 0)
        const masked = n - (n % 2 ** (32 - len))
        const dotted = [24, 16, 8, 0].map((s) => Math.floor(masked / 2 ** s) % 256).join('.')
        expect(networkKeys(v4, checkPrefixLengths({ ipv4Prefix: len })).prefix).toBe(`${dotted}/${len}`)
      }),
    )
  })

  it('IPv6: every spelling gives the canonical address, and keys follow the top bits', () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.ipV6(), (a, b) => {
        const ka = networkKeys(a)
        if (ka.family === 4) return // a mapped address: covered above
        expect(ka.address).toBe(new URL(`http://[${a}]/`).hostname.slice(1, -1))
        expect(networkKeys(ka.address)).toEqual(ka) // canonical form is a fixed point
        const kb = networkKeys(b)
        if (kb.family === 4) return
        const [x, y] = [bits(a), bits(b)]
        expect(ka.host === kb.host).toBe(x >> 64n === y >> 64n)
        expect(ka.prefix === kb.prefix).toBe(x >> 80n === y >> 80n)
      }),
    )
  })

  it('two addresses of one /64 share every key but the address', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (low) => {
        const groups = [0xfd00, 9, 0, 0, ...[48n, 32n, 16n, 0n].map((s) => Number((low >> s) & 0xffffn))]
        const k = networkKeys(groups.map((g) => g.toString(16)).join(':'))
        expect([k.host, k.prefix]).toEqual(['fd00:9::/64', 'fd00:9::/48'])
      }),
    )
  })

  it('anything else throws ERR_INVALID_ADDRESS and never anything else', () => {
    for (const bad of [
      '',
      '1.2.3',
      '1.2.3.04',
      '256.1.1.1',
      ':::',
      '1::2::3',
      'fd00::g',
      'localhost',
      ' 1.2.3.4',
    ]) {
      expect(() => networkKeys(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ADDRESS' }))
    }
    expect(() => networkKeys(42 as unknown as string)).toThrow(LimitsError)
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        try {
          networkKeys(s)
        } catch (error) {
          expect(error).toBeInstanceOf(LimitsError)
          expect((error as LimitsError).code).toBe('ERR_INVALID_ADDRESS')
        }
      }),
    )
  })

  it('rejects prefix lengths out of range (an IPv6 prefix longer than the host length too)', () => {
    expect(() => checkPrefixLengths({ ipv4Prefix: 0 })).toThrow(/ipv4Prefix/)
    expect(() => checkPrefixLengths({ ipv6Prefix: 72 })).toThrow(/ipv6Prefix/)
    expect(() => checkPrefixLengths({ ipv6Host: 129 })).toThrow(/ipv6Host/)
    expect(checkPrefixLengths({ ipv6Host: 56 })).toEqual({ ipv4Prefix: 24, ipv6Host: 56, ipv6Prefix: 48 })
  })
})
