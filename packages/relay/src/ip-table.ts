/**
 * The relay's per-IP counts live in `@pyp2p/limits`' `FairTable` (an IPv4-mapped IPv6 address counts as
 * its IPv4 address, an IPv6 /64 as one IP). The relay refuses when full and never evicts.
 */
import { FairTable, type NetworkKeys } from '@pyp2p/limits'

/** A table of `capacity` entries, `maxPerIp` per IP, no tighter limit per prefix. */
export function ipTable<T>(capacity: number, maxPerIp: number): FairTable<T> {
  return new FairTable<T>({ capacity, maxPerIp, maxPerPrefix: capacity })
}

/** The keys of `ip`; a host-given address that is not an IP counts as itself. */
export function keysOf(table: FairTable<unknown>, ip: string): NetworkKeys {
  try {
    return table.keysOf(ip)
  } catch {
    return { family: 4, address: ip, host: ip, prefix: ip }
  }
}
