import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { formatIPv4, isPrivateIPv4, parseIPv4, privateRangeOf, sameSubnet } from '../src/address.js'
import { parseProcNetRoute } from '../src/route-parsers.js'

describe('IPv4 helpers', () => {
  it('parses dotted quads only (no hex, octal or short forms, the ip 1.x SSRF vectors)', () => {
    expect(parseIPv4('10.0.0.1')).toBe(0x0a000001)
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff)
    for (const bad of [
      '0x7f.0.0.1',
      '127.1',
      '010.0.0.1',
      '256.0.0.1',
      '1.2.3.4.5',
      '',
      ' 1.2.3.4',
      '1.2.3.-4',
      '::1',
    ]) {
      expect(parseIPv4(bad)).toBeUndefined()
    }
  })

  it('classifies private ranges: RFC 1918, RFC 6598, link-local, loopback (not the lab WAN 11/8)', () => {
    const cases: Array<[string, boolean]> = [
      ['10.1.2.3', true],
      ['172.16.0.1', true],
      ['172.31.255.255', true],
      ['172.32.0.1', false],
      ['192.168.1.1', true],
      ['100.64.0.1', true],
      ['100.127.255.255', true],
      ['100.128.0.1', false],
      ['169.254.10.10', true],
      ['127.0.0.1', true],
      ['11.0.0.100', false],
      ['8.8.8.8', false],
      ['192.0.2.1', false],
    ]
    for (const [ip, priv] of cases) expect(isPrivateIPv4(ip), ip).toBe(priv)
    expect(privateRangeOf('100.64.3.4')).toMatch(/6598/)
  })

  it('round-trips every 32-bit address and agrees with a mask check (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const text = formatIPv4(n)
        expect(parseIPv4(text)).toBe(n)
        const inRange = (base: number, bits: number) => n >>> (32 - bits) === base >>> (32 - bits)
        const expected =
          inRange(0x0a000000, 8) ||
          inRange(0xac100000, 12) ||
          inRange(0xc0a80000, 16) ||
          inRange(0x64400000, 10) ||
          inRange(0xa9fe0000, 16) ||
          inRange(0x7f000000, 8) ||
          inRange(0, 8)
        expect(isPrivateIPv4(text)).toBe(expected)
      }),
    )
  })

  it('never throws on arbitrary strings (property)', () => {
    fc.assert(fc.property(fc.string(), (s) => void parseIPv4(s)))
  })

  it('compares subnets', () => {
    expect(sameSubnet('10.1.0.2', '10.1.0.1', '255.255.255.0')).toBe(true)
    expect(sameSubnet('10.1.0.2', '10.2.0.1', '255.255.255.0')).toBe(false)
  })

  it('reads default gateways from /proc/net/route', () => {
    const text = [
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
      'eth0\t00000000\t0100010A\t0003\t0\t0\t0\t00000000\t0\t0\t0',
      'eth0\t0001000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
      'eth1\t00000000\t0101A8C0\t0001\t0\t0\t0\t00000000\t0\t0\t0',
      'garbage',
    ].join('\n')
    expect(parseProcNetRoute(text)).toEqual([{ family: 4, iface: 'eth0', gateway: '10.1.0.1', metric: 0 }])
  })
})
