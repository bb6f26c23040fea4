import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PCP_RESULT } from '../src/constants.js'
import { NatError } from '../src/errors.js'
import { addressToBytes, bytesToAddress } from '../src/ip-bytes.js'
import { encodePcpAnnounce, encodePcpMap, parsePcpResponse } from '../src/pcp-codec.js'
import { pcpResultError } from '../src/pcp-result.js'
import { encodePcpResponse, parsePcpRequest } from './helpers/pcp-wire.js'

const nonce = Buffer.from('00112233445566778899aabb', 'hex')
const mapReply = (over: Partial<Parameters<typeof encodePcpResponse>[0]> = {}) =>
  encodePcpResponse({
    opcode: 1,
    resultCode: 0,
    lifetime: 600,
    epoch: 42,
    map: { nonce, protocol: 6, internalPort: 5000, externalPort: 5000, externalAddress: '11.0.0.1' },
    ...over,
  })

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (err) {
    expect(err).toBeInstanceOf(NatError)
    return (err as NatError).code
  }
}

describe('16-byte addresses (RFC 6887 section 5)', () => {
  it('carries IPv4 as IPv4-mapped IPv6 and IPv6 as is', () => {
    expect(addressToBytes('10.1.0.2').toString('hex')).toBe('00000000000000000000ffff0a010002')
    expect(addressToBytes('::1').toString('hex')).toBe('00000000000000000000000000000001')
    expect(addressToBytes('fe80::1%eth0').toString('hex')).toBe('fe800000000000000000000000000001')
    expect(addressToBytes('64:ff9b::192.0.2.33').toString('hex')).toBe('0064ff9b0000000000000000c0000221')
    expect(bytesToAddress(addressToBytes('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1')
    expect(() => addressToBytes('10.1.0')).toThrow(NatError)
    expect(() => addressToBytes('1:2:3:4:5:6:7:8:9')).toThrow(NatError)
  })

  it('round-trips every IPv4 and IPv6 address, and every 16 bytes (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        expect(bytesToAddress(addressToBytes(ip))).toBe(ip)
      }),
    )
    fc.assert(
      fc.property(fc.ipV6(), (ip) => {
        const bytes = addressToBytes(ip)
        expect(addressToBytes(bytesToAddress(bytes))).toEqual(bytes)
      }),
    )
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        expect(addressToBytes(bytesToAddress(b))).toEqual(Buffer.from(b))
      }),
    )
  })
})

describe('PCP messages', () => {
  it('encodes ANNOUNCE and MAP as RFC 6887 lays them out', () => {
    const a = encodePcpAnnounce('10.1.0.2')
    expect(a.toString('hex')).toBe(`0200000000000000${'00000000000000000000ffff0a010002'}`)
    const m = encodePcpMap({
      clientAddress: '10.1.0.2',
      lifetime: 7200,
      nonce,
      protocol: 'UDP',
      internalPort: 5000,
      suggestedExternalPort: 6000,
      suggestedExternalAddress: '0.0.0.0',
    })
    expect(m.length).toBe(60)
    expect(m.subarray(0, 8).toString('hex')).toBe('0201000000001c20')
    expect(m.subarray(24, 36)).toEqual(nonce)
    expect(m.subarray(36, 40).toString('hex')).toBe('11000000')
    expect(m.readUInt16BE(40)).toBe(5000)
    expect(m.readUInt16BE(42)).toBe(6000)
    expect(m.subarray(44).toString('hex')).toBe('00000000000000000000ffff00000000')
  })

  it('refuses to encode what does not fit the fields', () => {
    const base = {
      clientAddress: '10.1.0.2',
      lifetime: 60,
      nonce,
      protocol: 'TCP' as const,
      internalPort: 1,
      suggestedExternalPort: 0,
      suggestedExternalAddress: '0.0.0.0',
    }
    expect(codeOf(() => encodePcpMap({ ...base, nonce: Buffer.alloc(11) }))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => encodePcpMap({ ...base, lifetime: -1 }))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => encodePcpMap({ ...base, lifetime: 2 ** 32 }))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => encodePcpMap({ ...base, internalPort: 65536 }))).toBe('ERR_INVALID_ARGUMENT')
    expect(codeOf(() => encodePcpMap({ ...base, clientAddress: 'gateway' }))).toBe('ERR_INVALID_ARGUMENT')
  })

  it('round-trips MAP requests through a server-side reader (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.constantFrom('TCP' as const, 'UDP' as const),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        (clientAddress, lifetime, n, protocol, internalPort, suggestedExternalPort) => {
          const seen = parsePcpRequest(
            encodePcpMap({
              clientAddress,
              lifetime,
              nonce: n,
              protocol,
              internalPort,
              suggestedExternalPort,
              suggestedExternalAddress: '::',
            }),
          )
          expect(seen).toMatchObject({ version: 2, opcode: 1, lifetime })
          expect(addressToBytes(seen?.clientAddress ?? '')).toEqual(addressToBytes(clientAddress))
          expect(seen?.map).toMatchObject({
            nonce: Buffer.from(n),
            protocol: protocol === 'TCP' ? 6 : 17,
            internalPort,
            suggestedExternalPort,
          })
        },
      ),
    )
  })

  it('round-trips MAP and ANNOUNCE responses (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 13 }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.constantFrom(6, 17),
        fc.integer({ min: 0, max: 65535 }),
        fc.integer({ min: 0, max: 65535 }),
        fc.oneof(fc.ipV4(), fc.ipV6()),
        (resultCode, lifetime, epoch, n, protocol, internalPort, externalPort, externalAddress) => {
          const r = parsePcpResponse(
            encodePcpResponse({
              opcode: 1,
              resultCode,
              lifetime,
              epoch,
              map: { nonce: n, protocol, internalPort, externalPort, externalAddress },
            }),
          )
          expect(r).toMatchObject({ opcode: 1, resultCode, lifetime, epoch })
          expect(r.map).toMatchObject({ nonce: Buffer.from(n), internalPort, externalPort })
          expect(addressToBytes(r.map?.externalAddress ?? '')).toEqual(addressToBytes(externalAddress))
          expect(parsePcpResponse(encodePcpResponse({ opcode: 0, resultCode, lifetime, epoch }))).toEqual({
            opcode: 0,
            resultCode,
            lifetime,
            epoch,
          })
        },
      ),
    )
  })

  it('parses strictly: size, version, R bit, opcode, result code, MAP data, options', () => {
    const ok = mapReply()
    expect(parsePcpResponse(ok).map?.externalAddress).toBe('11.0.0.1')
    const flip = (at: number, value: number) => {
      const b = Buffer.from(ok)
      b[at] = value
      return b
    }
    const cases: Array<[string, Buffer, string]> = [
      ['empty', Buffer.alloc(0), 'ERR_INVALID_RESPONSE'],
      ['shorter than the header', ok.subarray(0, 20), 'ERR_INVALID_RESPONSE'],
      ['MAP data truncated', ok.subarray(0, 48), 'ERR_INVALID_RESPONSE'],
      ['not a multiple of 4', Buffer.concat([ok, Buffer.alloc(2)]), 'ERR_INVALID_RESPONSE'],
      ['oversize (1104 bytes)', Buffer.concat([ok, Buffer.alloc(1104 - ok.length)]), 'ERR_INVALID_RESPONSE'],
      ['version 1', flip(0, 1), 'ERR_INVALID_RESPONSE'],
      ['version 3', flip(0, 3), 'ERR_INVALID_RESPONSE'],
      ['R bit 0 (a request)', flip(1, 1), 'ERR_INVALID_RESPONSE'],
      ['opcode 5', flip(1, 0x85), 'ERR_INVALID_RESPONSE'],
      ['PEER (never asked)', flip(1, 0x82), 'ERR_INVALID_RESPONSE'],
      ['result code 14', flip(3, 14), 'ERR_INVALID_RESPONSE'],
      ['MAP protocol 99', flip(36, 99), 'ERR_INVALID_RESPONSE'],
      [
        'option longer than the message',
        Buffer.concat([ok, Buffer.from([1, 0, 0, 16, 0, 0, 0, 0])]),
        'ERR_INVALID_RESPONSE',
      ],
      // a NAT-PMP-only gateway answers PCP with its own "unsupported version" (RFC 6887 section 9)
      ['NAT-PMP unsupported version', Buffer.from('0080000100000005', 'hex'), 'ERR_UNSUPPORTED_VERSION'],
      ['NAT-PMP other reply', Buffer.from('008000000000000500000000', 'hex'), 'ERR_INVALID_RESPONSE'],
      [
        'version 1 with UNSUPP_VERSION',
        Buffer.concat([flip(0, 1).subarray(0, 3), Buffer.from([1]), ok.subarray(4)]),
        'ERR_UNSUPPORTED_VERSION',
      ],
    ]
    for (const [name, bytes, code] of cases)
      expect(
        codeOf(() => parsePcpResponse(bytes)),
        name,
      ).toBe(code)
    // well-formed options are skipped
    const withOption = Buffer.concat([ok, Buffer.from([1, 0, 0, 4, 9, 9, 9, 9])])
    expect(parsePcpResponse(withOption).map?.externalPort).toBe(5000)
  })

  it('never throws anything but NatError on random bytes, or on valid headers with random tails (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1200 }), (bytes) => {
        codeOf(() => parsePcpResponse(bytes))
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.constantFrom(0x80, 0x81), fc.uint8Array({ maxLength: 120 }), (op, tail) => {
        const head = Buffer.from([2, op, 0, 0])
        codeOf(() => parsePcpResponse(Buffer.concat([head, tail])))
      }),
      { numRuns: 2000 },
    )
  })

  it('turns every result code into a typed error with a stable code and the PCP number', () => {
    const expected: Record<number, string> = {
      [PCP_RESULT.UNSUPP_VERSION]: 'ERR_UNSUPPORTED_VERSION',
      [PCP_RESULT.NOT_AUTHORIZED]: 'ERR_NOT_AUTHORIZED',
      [PCP_RESULT.MALFORMED_REQUEST]: 'ERR_GATEWAY',
      [PCP_RESULT.UNSUPP_OPCODE]: 'ERR_NOT_SUPPORTED',
      [PCP_RESULT.UNSUPP_OPTION]: 'ERR_GATEWAY',
      [PCP_RESULT.MALFORMED_OPTION]: 'ERR_GATEWAY',
      [PCP_RESULT.NETWORK_FAILURE]: 'ERR_GATEWAY',
      [PCP_RESULT.NO_RESOURCES]: 'ERR_OUT_OF_RESOURCES',
      [PCP_RESULT.UNSUPP_PROTOCOL]: 'ERR_NOT_SUPPORTED',
      [PCP_RESULT.USER_EX_QUOTA]: 'ERR_OUT_OF_RESOURCES',
      [PCP_RESULT.CANNOT_PROVIDE_EXTERNAL]: 'ERR_GATEWAY',
      [PCP_RESULT.ADDRESS_MISMATCH]: 'ERR_ADDRESS_MISMATCH',
      [PCP_RESULT.EXCESSIVE_REMOTE_PEERS]: 'ERR_GATEWAY',
    }
    for (const [code, name] of Object.entries(expected)) {
      const err = pcpResultError(Number(code), 'PCP MAP')
      expect(err).toMatchObject({ code: name, pcpCode: Number(code) })
    }
  })
})
