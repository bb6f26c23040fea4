/**
 * A UNL's IPv6 extension (TLV_IPV6_ADDRESS): a global IPv6 address the node listens on, next to its
 * (usually IPv4) WAN address. Read and written through the UNL's generic `extensions`, like the relay
 * extension, so older readers skip it.
 */
import { addressToBytes, bytesToAddress, isIpv6Dialable } from './address.js'
import { TLV_IPV6_ADDRESS } from './constants.js'
import { UnlError } from './errors.js'
import { UNL } from './unl.js'

/** The IPv6 address `unl` lists, or undefined (none, or a malformed one, ignored like an unknown one). */
export function ipv6Of(unl: UNL): string | undefined {
  const ext = unl.extensions?.find((e) => e.type === TLV_IPV6_ADDRESS)
  if (ext === undefined || ext.value.length !== 16) return undefined
  const address = bytesToAddress(ext.value)
  return address !== undefined && isIpv6Dialable(address) ? address : undefined
}

/** `unl` listing `address` as its IPv6 address (replacing any), or none when `address` is undefined. */
export function withIpv6(unl: UNL, address: string | undefined): UNL {
  const fields = unl.toFields()
  const others = (fields.extensions ?? []).filter((e) => e.type !== TLV_IPV6_ADDRESS)
  if (address !== undefined) {
    const bytes = addressToBytes(address)
    if (bytes === undefined || bytes.length !== 16 || !isIpv6Dialable(address))
      throw UnlError.INVALID_UNL('ipv6', `not an IPv6 address one can dial: ${address}`)
    others.push({ type: TLV_IPV6_ADDRESS, value: bytes })
  }
  if (others.length > 0) fields.extensions = others
  else delete fields.extensions
  return new UNL(fields)
}
