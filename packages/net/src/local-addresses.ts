/**
 * This host's own addresses (from `os.networkInterfaces()`), to recognise ourselves and to tell whether
 * the address a server saw is one of ours (no NAT in between).
 */
import { isIPv4, isIPv6 } from 'node:net'
import { networkInterfaces } from 'node:os'
import { plainAddress } from '@pyp2p/framing'

/** Every address of every interface (loopback included), plain form. */
export function localAddresses(): Set<string> {
  const out = new Set<string>()
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) out.add(plainAddress(a.address))
  }
  return out
}

/** Whether `ip` is an address of this host (any interface, loopback included). */
export function isLocalAddress(ip: string): boolean {
  const plain = plainAddress(ip)
  return localAddresses().has(plain) || (isIPv4(plain) && plain.startsWith('127.'))
}

export function isLoopback(ip: string): boolean {
  const plain = plainAddress(ip)
  return (isIPv4(plain) && plain.startsWith('127.')) || plain === '::1'
}

export function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::'
}

/** The first IPv4 address (else IPv6) of the interface `name`, or undefined when it has none. */
export function interfaceAddress(name: string): string | undefined {
  const list = networkInterfaces()[name]
  if (list === undefined) return undefined
  return (list.find((a) => a.family === 'IPv4') ?? list.find((a) => isIPv6(a.address)))?.address
}

/** The first IPv4 address of a non-internal interface, if any. */
export function firstExternalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    const a = list?.find((x) => x.family === 'IPv4' && !x.internal)
    if (a !== undefined) return a.address
  }
  return undefined
}

/** Global unicast IPv6 (2000::/3): routed on the internet, unlike ULA (fc00::/7) or link-local. */
export function isGlobalIpv6(ip: string): boolean {
  if (!isIPv6(ip) || ip.includes('%') || ip.toLowerCase().startsWith('::ffff:')) return false
  const first = Number.parseInt(ip.split(':')[0] || '0', 16)
  return first >= 0x2000 && first <= 0x3fff
}

/** The first global IPv6 address of a non-internal interface, if any. */
export function globalIpv6Address(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    const a = list?.find((x) => x.family === 'IPv6' && !x.internal && isGlobalIpv6(x.address))
    if (a !== undefined) return a.address
  }
  return undefined
}

/**
 * The IPv6 address our UNL lists (the `ipv6Address` option): the one given; none with `false`; by
 * default the IPv6 address we listen on, or, listening on every address (`::`), this host's first
 * global one. None when we listen on IPv4 only.
 */
export function advertisedIpv6(bind: string, option: string | false | undefined): string | undefined {
  if (option === false) return undefined
  if (option !== undefined) return option
  if (bind === '::') return globalIpv6Address()
  return isIPv6(bind) && !isLoopback(bind) && !bind.toLowerCase().startsWith('fe80') ? bind : undefined
}
