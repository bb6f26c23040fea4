// Our own IPv4 helpers, replacing nat-upnp's `ip` dependency (SSRF advisories in ip 1.x came from
// its loose parsing of odd notations such as '0x7f.1'; this parser accepts dotted-quad only).
import { networkInterfaces } from 'node:os'

/** Parses strict dotted-quad IPv4 ('10.0.0.1'); returns the address as an unsigned 32-bit number. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4) return undefined
  let value = 0
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined
    const n = Number(part)
    if (n > 255) return undefined
    value = value * 256 + n
  }
  return value
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== undefined
}

export function formatIPv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.')
}

/**
 * Ranges this package treats as "not on the public internet" for the double-NAT warning:
 * RFC 1918 private, RFC 6598 shared (carrier-grade NAT), RFC 3927 link-local, loopback, and
 * 0.0.0.0/8 ("this network"). The documentation ranges (192.0.2/24 ...) are NOT counted: they
 * are not what a router reports behind a second NAT.
 */
const PRIVATE_RANGES: ReadonlyArray<readonly [base: string, bits: number, name: string]> = [
  ['10.0.0.0', 8, 'RFC 1918'],
  ['172.16.0.0', 12, 'RFC 1918'],
  ['192.168.0.0', 16, 'RFC 1918'],
  ['100.64.0.0', 10, 'RFC 6598 shared address space (carrier-grade NAT)'],
  ['169.254.0.0', 16, 'link-local'],
  ['127.0.0.0', 8, 'loopback'],
  ['0.0.0.0', 8, 'this network'],
]

/** Which private range `address` falls in, or undefined for a public (or invalid) address. */
export function privateRangeOf(address: string): string | undefined {
  const value = parseIPv4(address)
  if (value === undefined) return undefined
  for (const [base, bits, name] of PRIVATE_RANGES) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
    if ((value & mask) >>> 0 === parseIPv4(base)) return name
  }
  return undefined
}

export function isPrivateIPv4(address: string): boolean {
  return privateRangeOf(address) !== undefined
}

export interface Ipv4Interface {
  name: string
  address: string
  netmask: string
  internal: boolean
}

/**
 * IPv4 addresses of this host. By default the non-internal ones; `names` selects interfaces by
 * name (then internal ones such as `lo` are included, which tests on loopback use).
 */
export function ipv4Interfaces(names?: readonly string[]): Ipv4Interface[] {
  const out: Ipv4Interface[] = []
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (names !== undefined ? !names.includes(name) : false) continue
    for (const info of list ?? []) {
      if (info.family !== 'IPv4') continue
      if (names === undefined && info.internal) continue
      out.push({ name, address: info.address, netmask: info.netmask, internal: info.internal })
    }
  }
  return out
}

/** True when `a` and `b` are in the same subnet of `netmask`. */
export function sameSubnet(a: string, b: string, netmask: string): boolean {
  const x = parseIPv4(a)
  const y = parseIPv4(b)
  const m = parseIPv4(netmask)
  if (x === undefined || y === undefined || m === undefined) return false
  return (x & m) >>> 0 === (y & m) >>> 0
}
