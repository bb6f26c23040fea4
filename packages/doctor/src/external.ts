// The external addresses every source reported, and what their disagreement means.
import { privateRangeOf } from '@pyp2p/nat'
import type { DoctorReport, ExternalAddressSeen } from './report.js'

const CGNAT = /RFC 6598/

export interface ExternalSources {
  pcp?: string | null
  natpmp?: string | null
  upnp?: string | null
  server?: string
}

export function externalFindings(src: ExternalSources): DoctorReport['external'] {
  const addresses: ExternalAddressSeen[] = []
  let missing = false
  for (const source of ['pcp', 'natpmp', 'upnp', 'server'] as const) {
    const address = src[source]
    if (address === undefined) continue
    if (address === null) {
      missing = true // the router answered but has no external address: its WAN side is not the internet
      continue
    }
    const range = privateRangeOf(address)
    addresses.push({ address, source, ...(range !== undefined ? { privateRange: range } : {}) })
  }
  const distinct = new Set(addresses.map((a) => a.address))
  const differ = distinct.size > 1
  const routerPrivate = addresses.some((a) => a.source !== 'server' && a.privateRange !== undefined)
  const server = addresses.find((a) => a.source === 'server')
  const routerOther = addresses.some(
    (a) => a.source !== 'server' && server !== undefined && a.address !== server.address,
  )
  return {
    addresses,
    differ,
    doubleNat: missing || routerPrivate || routerOther,
    cgnat: addresses.some((a) => a.privateRange !== undefined && CGNAT.test(a.privateRange)),
  }
}
