import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { canonicalAddress } from '../src/address.js'
import { compareUnl, isMaster, isSameNode, parseUnl, UNL, UnlError, type UnlFields } from '../src/index.js'
import { unlFields } from './arbitraries.js'

const base: UnlFields = {
  nodeId: 'ab'.repeat(20),
  nodeType: 'passive',
  natType: 'preserving',
  forwarding: 'upnp',
  port: 8000,
  wanAddress: '11.0.0.2',
  lanAddress: '10.1.0.2',
}

/** Re-checksum a body so that the field checks, not the checksum, are what is tested. */
function withChecksum(body: Uint8Array): string {
  const sum = createHash('sha256').update(body).digest().subarray(0, 4)
  return Buffer.concat([body, sum]).toString('base64url')
}

function body(u: UNL): Uint8Array {
  return u.bytes.slice(0, -4)
}

function invalid(fn: () => unknown): UnlError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(UnlError)
    expect((err as UnlError).code).toBe('ERR_INVALID_UNL')
    return err as UnlError
  }
  throw new Error('expected ERR_INVALID_UNL')
}

describe('UNL encoding', () => {
  it('encodes to compact, URL-safe text and back', () => {
    const u = new UNL(base)
    expect(u.text).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(u.bytes.length).toBe(40) // 28 fixed + two IPv4 addresses + 4 checksum
    expect(u.text.length).toBe(54)
    expect(parseUnl(u.text).toFields()).toEqual(base)
  })

  it('carries IPv6 addresses, in canonical form', () => {
    const u = new UNL({ ...base, wanAddress: '2001:DB8:0:0:0:0:0:1', lanAddress: 'fe80::1' })
    expect(parseUnl(u.text)).toMatchObject({ wanAddress: '2001:db8::1', lanAddress: 'fe80::1' })
  })

  it('writes IPv4-mapped IPv6 as IPv4, and refuses the 16-byte form when decoding', () => {
    const u = new UNL({ ...base, wanAddress: '::ffff:11.0.0.2' })
    expect(u.wanAddress).toBe('11.0.0.2')
    const v6 = new UNL({ ...base, wanAddress: '::1' })
    const b = body(v6)
    b.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 11, 0, 0, 2], 27)
    expect(invalid(() => parseUnl(withChecksum(b))).field).toBe('wanAddress')
  })

  it('round-trips any valid fields (fast-check)', () => {
    fc.assert(
      fc.property(unlFields, (f) => {
        const u = new UNL(f)
        const back = parseUnl(u.text)
        expect(back.text).toBe(u.text)
        expect(back.wanAddress).toBe(canonicalAddress(f.wanAddress))
        expect(back.lanAddress).toBe(canonicalAddress(f.lanAddress))
        expect([back.nodeId, back.nodeType, back.natType, back.forwarding, back.port]).toEqual([
          f.nodeId,
          f.nodeType,
          f.natType,
          f.forwarding,
          f.port,
        ])
        expect(back.publicPort).toBe(f.externalPort ?? f.port)
        expect(back.extensions ?? []).toEqual([...(f.extensions ?? [])].sort((x, y) => x.type - y.type))
      }),
      { numRuns: 500 },
    )
  })

  it('names the wrong field in a value that cannot be encoded', () => {
    expect(invalid(() => new UNL({ ...base, nodeId: 'xyz' })).field).toBe('nodeId')
    expect(invalid(() => new UNL({ ...base, port: 70000 })).field).toBe('port')
    expect(invalid(() => new UNL({ ...base, port: 0 })).message).toMatch(
      /passive node must have a listening port/,
    )
    expect(invalid(() => new UNL({ ...base, wanAddress: 'example.com' })).field).toBe('wanAddress')
    expect(invalid(() => new UNL({ ...base, natType: 'cone' as never })).field).toBe('natType')
    expect(
      invalid(() => new UNL({ ...base, extensions: [{ type: 0x90, value: new Uint8Array() }] })).field,
    ).toBe('extensions')
  })
})

describe('UNL decoding refuses what is wrong, saying what', () => {
  const good = new UNL(base)

  it('text that is not base64url, or not canonical', () => {
    expect(invalid(() => parseUnl(`${good.text}=`)).field).toBe('text')
    expect(invalid(() => parseUnl(good.text.replace(/[A-Za-z]/, '+'))).field).toBe('text')
    expect(invalid(() => parseUnl('')).message).toMatch(/empty/)
    expect(invalid(() => parseUnl(42 as never)).field).toBe('text')
  })

  it('a tampered UNL: checksum', () => {
    const b = Buffer.from(good.bytes)
    b[30] = b[30]! ^ 1
    expect(invalid(() => parseUnl(b.toString('base64url'))).field).toBe('checksum')
  })

  it('a truncated UNL', () => {
    const err = invalid(() => UNL.fromBytes(good.bytes.subarray(0, 20)))
    expect(err.field).toBe('length')
    expect(err.message).toMatch(/truncated/)
  })

  it('an unknown version, and the Python original version 2', () => {
    const b = body(good)
    b[0] = 9
    expect(invalid(() => parseUnl(withChecksum(b))).message).toMatch(/unsupported version 9/)
    b[0] = 2
    expect(invalid(() => parseUnl(withChecksum(b))).message).toMatch(/Python original/)
  })

  it('unknown codes of each lookup field', () => {
    for (const [offset, field] of [
      [21, 'nodeType'],
      [22, 'natType'],
      [23, 'forwarding'],
    ] as const) {
      const b = body(good)
      b[offset] = 9
      expect(invalid(() => parseUnl(withChecksum(b))).field).toBe(field)
    }
  })

  it('bad address lengths and extensions running past the end', () => {
    const b = body(good)
    b[26] = 5
    expect(invalid(() => parseUnl(withChecksum(b))).field).toBe('wanAddress')
    const ext = Buffer.concat([body(good), Buffer.from([0x10, 9, 1])])
    expect(invalid(() => parseUnl(withChecksum(ext))).message).toMatch(/ends early/)
  })

  it('skips unknown optional extensions (kept for re-encoding) and refuses unknown critical ones', () => {
    const optional = Buffer.concat([body(good), Buffer.from([0x20, 2, 7, 7])])
    const u = parseUnl(withChecksum(optional))
    expect(u.extensions).toEqual([{ type: 0x20, value: Uint8Array.of(7, 7) }])
    expect(u.text).toBe(withChecksum(optional))
    const critical = Buffer.concat([body(good), Buffer.from([0x81, 0])])
    expect(invalid(() => parseUnl(withChecksum(critical))).message).toMatch(/critical extension 0x81/)
    const repeated = Buffer.concat([body(good), Buffer.from([0x20, 0, 0x20, 0])])
    expect(invalid(() => parseUnl(withChecksum(repeated))).message).toMatch(/repeated or out of order/)
  })

  it('any truncation gives ERR_INVALID_UNL (fast-check)', () => {
    fc.assert(
      fc.property(unlFields, fc.nat(), (f, cut) => {
        const text = new UNL(f).text
        const short = text.slice(0, cut % text.length)
        invalid(() => parseUnl(short))
      }),
      { numRuns: 500 },
    )
  })

  it('any bit flip gives ERR_INVALID_UNL or a different valid UNL (fast-check)', () => {
    fc.assert(
      fc.property(unlFields, fc.nat(), (f, bit) => {
        const u = new UNL(f)
        const b = Buffer.from(u.bytes)
        const i = bit % (b.length * 8)
        b[i >> 3] = b[i >> 3]! ^ (1 << (i & 7))
        try {
          expect(UNL.fromBytes(b).equals(u)).toBe(false)
        } catch (err) {
          if (!(err instanceof UnlError) || err.code !== 'ERR_INVALID_UNL') throw err
        }
      }),
      { numRuns: 1000 },
    )
  })

  it('random text and random bytes behind a valid checksum throw nothing but ERR_INVALID_UNL (fast-check)', () => {
    const attempt = (fn: () => unknown): void => {
      try {
        fn()
      } catch (err) {
        if (!(err instanceof UnlError) || err.code !== 'ERR_INVALID_UNL') throw err
      }
    }
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.base64String(), fc.string({ unit: 'binary' })), (s) => {
        attempt(() => parseUnl(s))
      }),
      { numRuns: 2000 },
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, v3) => {
        if (v3 && bytes.length > 0) bytes[0] = 3
        attempt(() => parseUnl(withChecksum(bytes)))
      }),
      { numRuns: 3000 },
    )
  })
})

describe('comparing UNLs', () => {
  it('isSameNode compares node ids, or addresses and port without ids', () => {
    const a = new UNL(base)
    expect(isSameNode(a, new UNL({ ...base, port: 9000 }))).toBe(true)
    expect(isSameNode(a, new UNL({ ...base, nodeId: 'cd'.repeat(20) }))).toBe(false)
    const zero = { ...base, nodeId: '0'.repeat(40) }
    expect(isSameNode(new UNL(zero), new UNL({ ...zero, natType: 'random' }))).toBe(true)
    expect(isSameNode(new UNL(zero), new UNL({ ...zero, port: 9000 }))).toBe(false)
  })

  it('exactly one of two different UNLs is the master, by the binary as a number (fast-check)', () => {
    fc.assert(
      fc.property(unlFields, unlFields, (fa, fb) => {
        const a = new UNL(fa)
        const b = new UNL(fb)
        if (a.equals(b)) {
          expect(isMaster(a, b) || isMaster(b, a)).toBe(false)
          return
        }
        expect(isMaster(a, b)).not.toBe(isMaster(b, a))
        const asNumber = (u: UNL) => BigInt(`0x${Buffer.from(u.bytes).toString('hex')}`)
        expect(compareUnl(a, b)).toBe(asNumber(a) > asNumber(b) ? 1 : -1)
      }),
      { numRuns: 500 },
    )
  })
})
