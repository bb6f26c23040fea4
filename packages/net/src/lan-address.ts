/** Which LAN address a node writes into its UNL. */
import { plainAddress } from '@pyp2p/framing'
import { NetError } from './errors.js'
import { firstExternalAddress, interfaceAddress, isUnspecified } from './local-addresses.js'
import type { ResolvedNetOptions } from './options.js'

/** The `interface` option's address; else the bound one; else the one that reaches the server. */
export function lanAddressOf(o: ResolvedNetOptions, towardsServer: string | undefined): string {
  if (o.interface !== 'default') {
    const a = interfaceAddress(o.interface)
    if (a === undefined)
      throw NetError.INVALID_OPTION('interface', o.interface, 'a network interface with an address')
    return a
  }
  if (!isUnspecified(o.passiveBind)) return o.passiveBind
  if (towardsServer !== undefined) return plainAddress(towardsServer)
  return firstExternalAddress() ?? '127.0.0.1'
}
