import { privateRangeOf } from './address.js'
import type { NatWarning } from './types.js'

/**
 * The warning an external address calls for, if any: none reported (NO_EXTERNAL_ADDRESS) or a
 * private one (DOUBLE_NAT: RFC 1918, RFC 6598, link-local, loopback).
 */
export function externalAddressWarning(address: string | null, gateway: string): NatWarning | undefined {
  if (address === null) {
    return {
      code: 'NO_EXTERNAL_ADDRESS',
      externalAddress: null,
      message:
        `The router ${gateway} reports no external address. Its own WAN address is probably private ` +
        '(double NAT: routers such as miniupnpd hide it) or its WAN link is down; mappings on it will ' +
        'not make the port reachable from the internet.',
    }
  }
  const range = privateRangeOf(address)
  if (range === undefined) return undefined
  return {
    code: 'DOUBLE_NAT',
    externalAddress: address,
    range,
    message:
      `The router's external address ${address} is private (${range}): another NAT sits upstream, so ` +
      'a mapping on this router alone does not make the port reachable from the internet.',
  }
}
