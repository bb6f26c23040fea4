/**
 * IP addresses as text and as bytes (4 for IPv4, 16 for IPv6), in one canonical form each, so that two
 * UNLs for the same node have the same bytes.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** The bytes of an IP address, or undefined when `text` is not one. IPv4-mapped IPv6 gives 4 bytes. */
export function addressToBytes(text: string): Uint8Array | undefined {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number))
  if (!isIPv6(text) || text.includes('%')) return undefined
  const bytes = ipv6ToBytes(text)
  if (bytes === undefined) return undefined
  return isV4Mapped(bytes) ? bytes.slice(12) : bytes
}

/** Text of 4 or 16 address bytes (IPv6 in RFC 5952 form); undefined for any other length. */
export function bytesToAddress(bytes: Uint8Array): string | undefined {
  if (bytes.length === 4) return Array.from(bytes).join('.')
  if (bytes.length !== 16) return undefined
  const groups: string[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
  // The WHATWG URL parser prints IPv6 hosts in RFC 5952 form (longest zero run compressed, lowercase).
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1)
}

/** The canonical text of an address ('' stays ''), or undefined when it is not an IP address. */
export function canonicalAddress(text: string): string | undefined {
  if (text === '') return ''
  const bytes = addressToBytes(text)
  return bytes === undefined ? undefined : bytesToAddress(bytes)
}

/** ::ffff:a.b.c.d — written as the IPv4 address in a UNL, so one address has one encoding. */
export function isV4Mapped(bytes: Uint8Array): boolean {
  if (bytes.length !== 16) return false
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false
  return bytes[10] === 0xff && bytes[11] === 0xff
}

function ipv6ToBytes(text: string): Uint8Array | undefined {
  let head = text
  let tail: number[] = []
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = text.lastIndexOf(':')
  const last = text.slice(lastColon + 1)
  if (last.includes('.')) {
    if (!isIPv4(last)) return undefined
    const [a, b, c, d] = last.split('.').map(Number) as [number, number, number, number]
    tail = [(a << 8) | b, (c << 8) | d]
    head = text.slice(0, lastColon)
    // '::1.2.3.4' leaves ':' and '1::1.2.3.4' leaves '1:': the colon before the tail was half of '::'.
    if (head.endsWith(':')) head += ':'
  }
  const parts = head.split('::')
  if (parts.length > 2) return undefined
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)))
  const left = parse(parts[0]!)
  const right = parts.length === 2 ? parse(parts[1]!) : []
  const fill = 8 - tail.length - left.length - right.length
  if (parts.length === 1 && fill !== 0) return undefined
  if (fill < 0) return undefined
  const groups = [...left, ...new Array<number>(parts.length === 2 ? fill : 0).fill(0), ...right, ...tail]
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return undefined
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8
    out[i * 2 + 1] = g & 0xff
  })
  return out
}

/**
 * Whether an IPv6 address can stand in a UNL for others to dial: not unspecified, multicast,
 * link-local (fe80::/10, meaningless without its zone) or IPv4-mapped. Loopback (::1) is allowed for
 * tests on one machine, as 127.0.0.1 is for IPv4.
 */
export function isIpv6Dialable(text: string): boolean {
  const bytes = addressToBytes(text)
  if (bytes === undefined || bytes.length !== 16) return false
  if (bytes.every((b) => b === 0)) return false
  if (bytes[0] === 0xff) return false
  return !(bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80)
}
