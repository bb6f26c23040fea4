// Default routes from what each OS shows: Linux /proc/net/route, /proc/net/ipv6_route and
// `ip route`; macOS `netstat -rn` and `route -n get default`; Windows `route print`. Pure functions
// over text, each tested on captured output; lines that do not parse are skipped, never guessed.
import { isIPv6 } from 'node:net'
import { formatIPv4, isIPv4 } from './address.js'
import { bytesToAddress } from './ip-bytes.js'

export interface RawRoute {
  family: 4 | 6
  gateway: string
  /** interface name (Linux, macOS), or index as text (Windows IPv6); '' when the OS does not say */
  iface: string
  /** our address on that route when the OS says (Windows `route print`, `ip route ... src`) */
  localAddress?: string
  metric?: number
}

const isIPv6Text = (s: string) => isIPv6(s.replace(/%.*$/, ''))

/** Linux /proc/net/route: default routes (destination 0) with RTF_UP|RTF_GATEWAY, gateway little-endian hex. */
export function parseProcNetRoute(text: string): RawRoute[] {
  const out: RawRoute[] = []
  for (const line of text.split('\n').slice(1)) {
    const [iface, destination, gatewayHex, flags, , , metric] = line.trim().split(/\s+/)
    if (iface === undefined || destination !== '00000000' || gatewayHex === undefined) continue
    if (!/^[0-9A-Fa-f]{8}$/.test(gatewayHex) || flags === undefined) continue
    if ((Number.parseInt(flags, 16) & 3) !== 3) continue
    const le = Number.parseInt(gatewayHex, 16)
    const value = ((le & 255) << 24) | (((le >>> 8) & 255) << 16) | (((le >>> 16) & 255) << 8) | (le >>> 24)
    out.push({ family: 4, gateway: formatIPv4(value >>> 0), iface, ...metricOf(metric) })
  }
  return dedupe(out)
}

/** Linux /proc/net/ipv6_route: ::/0 with a next hop and RTF_UP|RTF_GATEWAY. */
export function parseProcNetIpv6Route(text: string): RawRoute[] {
  const out: RawRoute[] = []
  for (const line of text.split('\n')) {
    const [dest, destLen, , , nextHop, metric, , , flags, iface] = line.trim().split(/\s+/)
    if (dest !== '0'.repeat(32) || destLen !== '00' || nextHop === undefined || iface === undefined) continue
    if (!/^[0-9a-fA-F]{32}$/.test(nextHop) || /^0+$/.test(nextHop)) continue
    if (flags === undefined || (Number.parseInt(flags, 16) & 3) !== 3) continue
    const gateway = bytesToAddress(Buffer.from(nextHop, 'hex'))
    // a link-local next hop is only meaningful with its interface (its zone)
    const scoped = gateway.startsWith('fe80') ? `${gateway}%${iface}` : gateway
    out.push({ family: 6, gateway: scoped, iface, ...metricOf(metric, 16) })
  }
  return dedupe(out)
}

/** `ip route show default` / `ip -6 route show default` (iproute2). */
export function parseIpRoute(text: string): RawRoute[] {
  const out: RawRoute[] = []
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/)
    if (words[0] !== 'default') continue
    const field = (name: string) => {
      const i = words.indexOf(name)
      return i < 0 ? undefined : words[i + 1]
    }
    const via = field('via')
    const dev = field('dev') ?? ''
    if (via === undefined) continue
    const family = isIPv4(via) ? 4 : isIPv6Text(via) ? 6 : undefined
    if (family === undefined) continue
    const src = field('src')
    out.push({
      family,
      gateway: family === 6 && via.startsWith('fe80') && dev ? `${via}%${dev}` : via,
      iface: dev,
      ...(src !== undefined ? { localAddress: src } : {}),
      ...metricOf(field('metric'), 10),
    })
  }
  return dedupe(out)
}

/** macOS/BSD `netstat -rn`: `default` rows of the Internet and Internet6 tables with an IP gateway. */
export function parseNetstatRn(text: string): RawRoute[] {
  const out: RawRoute[] = []
  let family: 4 | 6 | undefined
  for (const line of text.split('\n')) {
    if (/^Internet6:/.test(line)) family = 6
    else if (/^Internet:/.test(line)) family = 4
    const [dest, gateway, flags, netif] = line.trim().split(/\s+/)
    if (family === undefined || dest !== 'default' || gateway === undefined || netif === undefined) continue
    if (flags === undefined || !flags.includes('G')) continue
    if (family === 4 ? !isIPv4(gateway) : !isIPv6Text(gateway)) continue // e.g. link#17 of a VPN
    out.push({ family, gateway, iface: netif })
  }
  return dedupe(out)
}

/** macOS/BSD `route -n get default` (IPv4, or IPv6 with `-inet6`): its gateway and interface lines. */
export function parseRouteGet(text: string): RawRoute[] {
  const gateway = /^\s*gateway:\s*(\S+)\s*$/m.exec(text)?.[1]
  const iface = /^\s*interface:\s*(\S+)\s*$/m.exec(text)?.[1] ?? ''
  if (gateway === undefined) return []
  if (isIPv4(gateway)) return [{ family: 4, gateway, iface }]
  if (isIPv6Text(gateway)) return [{ family: 6, gateway, iface }]
  return []
}

/**
 * Windows `route print`: the Active Routes of the IPv4 table (0.0.0.0/0.0.0.0 with a gateway and our
 * interface address) and of the IPv6 table (::/0, interface index, gateway), lowest metric first.
 */
export function parseRoutePrint(text: string): RawRoute[] {
  const out: RawRoute[] = []
  let table: 4 | 6 | undefined
  let active = false
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (/^IPv4 Route Table/i.test(line)) table = 4
    else if (/^IPv6 Route Table/i.test(line)) table = 6
    else if (/^Active Routes:/i.test(line)) active = true
    else if (/^Persistent Routes:/i.test(line) || /^Interface List/i.test(line)) active = false
    if (!active || table === undefined) continue
    const cols = line.split(/\s+/)
    if (table === 4) {
      const [dest, mask, gateway, local, metric] = cols
      if (dest !== '0.0.0.0' || mask !== '0.0.0.0' || gateway === undefined || !isIPv4(gateway)) continue
      if (local === undefined || !isIPv4(local)) continue
      out.push({ family: 4, gateway, iface: '', localAddress: local, ...metricOf(metric, 10) })
    } else {
      const [index, metric, dest, gateway] = cols
      if (dest !== '::/0' || gateway === undefined || !isIPv6Text(gateway) || !/^\d+$/.test(index ?? ''))
        continue
      const scoped = gateway.includes('%') || !gateway.startsWith('fe80') ? gateway : `${gateway}%${index}`
      out.push({ family: 6, gateway: scoped, iface: index ?? '', ...metricOf(metric, 10) })
    }
  }
  return dedupe(out).sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0))
}

function metricOf(text: string | undefined, radix = 10): { metric?: number } {
  if (text === undefined) return {}
  const n = Number.parseInt(text, radix)
  return Number.isFinite(n) ? { metric: n } : {}
}

function dedupe(routes: RawRoute[]): RawRoute[] {
  const seen = new Set<string>()
  return routes.filter((r) => {
    const key = `${r.family} ${r.gateway} ${r.iface}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
