import { isIPv4 } from 'node:net'

/**
 * A socket address as other nodes know it: `::ffff:1.2.3.4` (how a dual-stack socket shows an IPv4
 * peer) is `1.2.3.4`; every other address is returned unchanged. Servers key tables by it and nodes
 * compare it with what a server saw, so one peer must have one spelling.
 */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
}
