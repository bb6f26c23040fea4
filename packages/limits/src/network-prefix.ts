/**
 * Which network an address belongs to, for limits that an attacker with one cheap address block must
 * not escape: the key that counts as one IP (an IPv4 address, an IPv6 /64: a host gets a whole /64, so
 * a limit per IPv6 address limits nothing) and the prefix that counts as one network (an IPv4 /24, an
 * IPv6 /48). IPv4-mapped IPv6 (`::ffff:10.9.9.7`, what a dual-stack listener reports) is IPv4. One strict
 * function: anything that is not an address throws `ERR_INVALID_ADDRESS`; every spelling of one address
 * gives the same keys.
 */
import { isIPv4, isIPv6 } from 'node:net'
import {
  DEFAULT_IPV4_PREFIX_LENGTH,
  DEFAULT_IPV6_HOST_LENGTH,
  DEFAULT_IPV6_PREFIX_LENGTH,
} from './constants.js'
import { LimitsError } from './errors.js'

/** Prefix lengths, in bits. */
export interface PrefixLengths {
  /** One IPv4 network. Default 24. */
  readonly ipv4Prefix: number
  /** What counts as one IPv6 address. Default 64. */
  readonly ipv6Host: number
  /** One IPv6 network (at most `ipv6Host`). Default 48. */
  readonly ipv6Prefix: number
}

export const DEFAULT_PREFIX_LENGTHS: PrefixLengths = Object.freeze({
  ipv4Prefix: DEFAULT_IPV4_PREFIX_LENGTH,
  ipv6Host: DEFAULT_IPV6_HOST_LENGTH,
  ipv6Prefix: DEFAULT_IPV6_PREFIX_LENGTH,
})

export interface NetworkKeys {
  readonly family: 4 | 6
  /** The address in its canonical form (dotted IPv4; RFC 5952 IPv6: lower case, longest zero run as ::). */
  readonly address: string
  /** What counts as one IP: the IPv4 address, or its IPv6 /64 (`fd00:9::/64`). */
  readonly host: string
  /** Its network: `10.9.9.0/24`, `fd00:9::/48`. */
  readonly prefix: string
}

/** Throws `ERR_INVALID_LIMIT` unless every length is an integer in its range. */
export function checkPrefixLengths(lengths: Partial<PrefixLengths> = {}): PrefixLengths {
  const l = { ...DEFAULT_PREFIX_LENGTHS, ...lengths }
  const bits = (field: keyof PrefixLengths, max: number): void => {
    const v = l[field]
    if (!Number.isInteger(v) || v < 1 || v > max) {
      throw LimitsError.INVALID_LIMIT('prefix lengths', field, v, `an integer 1..${max}`)
    }
  }
  bits('ipv4Prefix', 32)
  bits('ipv6Host', 128)
  bits('ipv6Prefix', l.ipv6Host)
  return l
}

/**
 * The keys of `ip` (as a socket reports it; a zone id such as `%eth0` is ignored). Throws
 * `ERR_INVALID_ADDRESS` for anything else. Pass lengths checked with `checkPrefixLengths` (the
 * defaults: IPv4 /24, IPv6 /64 and /48).
 */
export function networkKeys(ip: string, lengths: PrefixLengths = DEFAULT_PREFIX_LENGTHS): NetworkKeys {
  if (typeof ip !== 'string') throw LimitsError.INVALID_ADDRESS(ip)
  if (isIPv4(ip)) return v4Keys(ip.split('.').map(Number), lengths)
  const bare = ip.includes('%') ? ip.slice(0, ip.indexOf('%')) : ip
  if (!isIPv6(bare) || bare.includes('%')) throw LimitsError.INVALID_ADDRESS(ip)
  const g = v6Groups(bare)
  // ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2): an IPv4 peer of a dual-stack socket.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    const hi = g[6] as number
    const lo = g[7] as number
    return v4Keys([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff], lengths)
  }
  return {
    family: 6,
    address: formatV6(g),
    host: `${formatV6(mask(g, lengths.ipv6Host))}/${lengths.ipv6Host}`,
    prefix: `${formatV6(mask(g, lengths.ipv6Prefix))}/${lengths.ipv6Prefix}`,
  }
}

function v4Keys(octets: number[], lengths: PrefixLengths): NetworkKeys {
  const n =
    ((octets[0] as number) * 2 ** 24 +
      (((octets[1] as number) << 16) | ((octets[2] as number) << 8) | (octets[3] as number))) >>>
    0
  const bits = lengths.ipv4Prefix
  // Shifts, not `2 ** (32 - bits)` (a call to pow on every accept and registration).
  const masked = bits === 32 ? n : ((n >>> (32 - bits)) << (32 - bits)) >>> 0
  const address = octets.join('.')
  return { family: 4, address, host: address, prefix: `${dotted(masked)}/${bits}` }
}

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`
}

/** The eight 16-bit groups of an address `isIPv6` accepted (without zone id). */
function v6Groups(ip: string): number[] {
  let text = ip
  const lastColon = text.lastIndexOf(':')
  if (text.includes('.', lastColon)) {
    // An embedded IPv4 address is the last two groups: rewrite it as such.
    const o = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number)
    const hi = (((o[0] as number) << 8) | (o[1] as number)).toString(16)
    const lo = (((o[2] as number) << 8) | (o[3] as number)).toString(16)
    text = `${text.slice(0, lastColon + 1)}${hi}:${lo}`
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((h) => Number.parseInt(h, 16)))
  const gap = text.indexOf('::')
  let groups: number[]
  if (gap === -1) {
    groups = parse(text)
  } else {
    const head = parse(text.slice(0, gap))
    const rest = parse(text.slice(gap + 2))
    groups = [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest]
  }
  if (groups.length !== 8 || groups.some((x) => !(x >= 0 && x <= 0xffff))) {
    throw LimitsError.INVALID_ADDRESS(ip) // unreachable after isIPv6, kept as a guard
  }
  return groups
}

function mask(groups: readonly number[], bits: number): number[] {
  return groups.map((g, i) => {
    const keep = Math.min(16, Math.max(0, bits - i * 16))
    return keep === 16 ? g : keep === 0 ? 0 : g & ((0xffff << (16 - keep)) & 0xffff)
  })
}

/** RFC 5952: lower-case hex without leading zeros, the longest run (>= 2) of zero groups as `::`. */
function formatV6(groups: readonly number[]): string {
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      best = i
      bestLen = j - i
    }
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best === -1) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
