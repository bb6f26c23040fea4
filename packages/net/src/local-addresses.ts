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
