/**
 * A UNL's relay extension (TLV_RELAY): where the node holds a circuit-relay reservation. Read and
 * written through the UNL's generic `extensions`, so the UNL codec needs no change.
 */
import { addressToBytes, bytesToAddress } from './address.js'
import { TLV_RELAY } from './constants.js'
import { UnlError } from './errors.js'
import { UNL } from './unl.js'

export interface RelayAddress {
  host: string
  port: number
}

/** The relay `unl` names, or undefined (none, or a malformed value, which is ignored like an unknown one). */
export function relayOf(unl: UNL): RelayAddress | undefined {
  const ext = unl.extensions?.find((e) => e.type === TLV_RELAY)
  if (ext === undefined || (ext.value.length !== 6 && ext.value.length !== 18)) return undefined
  const v = ext.value
  const host = bytesToAddress(v.subarray(0, v.length - 2))
  const port = (v[v.length - 2]! << 8) | v[v.length - 1]!
  if (host === undefined || port === 0) return undefined
  return { host, port }
}

/** `unl` naming `relay` (replacing any relay it named), or naming none when `relay` is undefined. */
export function withRelay(unl: UNL, relay: RelayAddress | undefined): UNL {
  const fields = unl.toFields()
  const others = (fields.extensions ?? []).filter((e) => e.type !== TLV_RELAY)
  if (relay !== undefined) {
    const addr = addressToBytes(relay.host)
    if (addr === undefined || !Number.isInteger(relay.port) || relay.port < 1 || relay.port > 65_535)
      throw UnlError.INVALID_UNL('relay', `not an IP address and port: ${relay.host}:${relay.port}`)
    others.push({ type: TLV_RELAY, value: Uint8Array.of(...addr, relay.port >> 8, relay.port & 0xff) })
  }
  if (others.length > 0) fields.extensions = others
  else delete fields.extensions
  return new UNL(fields)
}
