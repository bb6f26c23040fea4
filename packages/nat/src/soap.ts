// Readers for what a UPnP IGD sends back through nat-upnp: SOAP action responses and faults, in the
// xml2js-0.1 shape our XML reader produces (see xml.ts). Everything arrives as `unknown` and is narrowed.
import { NatError } from './errors.js'
import type { Protocol } from './types.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function localName(key: string): string {
  const colon = key.lastIndexOf(':')
  return colon === -1 ? key : key.slice(colon + 1)
}

/** Depth-first search for the first value stored under a key with this local name. */
function findByLocalName(value: unknown, name: string, depth = 0): unknown {
  if (depth > 16) return undefined
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findByLocalName(item, name, depth + 1)
      if (found !== undefined) return found
    }
    return undefined
  }
  if (!isRecord(value)) return undefined
  for (const [key, child] of Object.entries(value)) {
    if (key !== '@' && localName(key) === name) return child
  }
  for (const [key, child] of Object.entries(value)) {
    if (key === '@') continue
    const found = findByLocalName(child, name, depth + 1)
    if (found !== undefined) return found
  }
  return undefined
}

export interface UpnpFault {
  code: number
  description: string
}

/** The `<UPnPError>` of a SOAP fault document (UPnP DA 1.1 section 3.2.2), if there is one. */
export function parseUpnpFault(document: unknown): UpnpFault | undefined {
  const error = findByLocalName(document, 'UPnPError')
  if (!isRecord(error)) return undefined
  const code = error.errorCode
  if (typeof code !== 'string' || !/^[0-9]{1,4}$/.test(code.trim())) return undefined
  const description = error.errorDescription
  return { code: Number(code.trim()), description: typeof description === 'string' ? description : '' }
}

/**
 * The output arguments of `<u:{action}Response>` as strings (empty elements give ''). Throws
 * `ERR_INVALID_RESPONSE` when the response element is missing.
 */
export function parseActionResponse(body: unknown, action: string): Record<string, string> {
  const response = findByLocalName(body, `${action}Response`)
  if (response === '') return Object.create(null)
  if (!isRecord(response)) {
    throw NatError.INVALID_RESPONSE(`${action} response`, new Error(`no ${action}Response element`))
  }
  const out: Record<string, string> = Object.create(null)
  for (const [key, value] of Object.entries(response)) {
    if (key === '@' || key === '#') continue
    out[localName(key)] = typeof value === 'string' ? value : ''
  }
  return out
}

function port(text: string | undefined, what: string, allowZero = false): number {
  const value = text === undefined ? Number.NaN : Number(text.trim())
  if (!/^[0-9]{1,5}$/.test(text?.trim() ?? '') || value > 65535 || (!allowZero && value === 0)) {
    throw NatError.INVALID_RESPONSE('port mapping entry', new Error(`bad ${what}: ${JSON.stringify(text)}`))
  }
  return value
}

/** One row of a UPnP mapping table (GetGenericPortMappingEntry / GetSpecificPortMappingEntry). */
export interface UpnpMappingEntry {
  remoteHost: string
  externalPort: number
  protocol: Protocol
  internalPort: number
  internalClient: string
  enabled: boolean
  description: string
  /** remaining lease in seconds; 0 = permanent */
  leaseDuration: number
}

export function parseMappingEntry(fields: Record<string, string>, known: Partial<UpnpMappingEntry> = {}) {
  const protocol = (fields.NewProtocol ?? known.protocol ?? '').trim().toUpperCase()
  if (protocol !== 'TCP' && protocol !== 'UDP') {
    throw NatError.INVALID_RESPONSE(
      'port mapping entry',
      new Error(`bad protocol ${JSON.stringify(protocol)}`),
    )
  }
  const lease = (fields.NewLeaseDuration ?? '0').trim() || '0'
  if (!/^[0-9]{1,10}$/.test(lease)) {
    throw NatError.INVALID_RESPONSE('port mapping entry', new Error(`bad lease ${JSON.stringify(lease)}`))
  }
  const entry: UpnpMappingEntry = {
    remoteHost: fields.NewRemoteHost ?? known.remoteHost ?? '',
    externalPort:
      fields.NewExternalPort === undefined && known.externalPort !== undefined
        ? known.externalPort
        : port(fields.NewExternalPort, 'external port'),
    protocol,
    internalPort: port(fields.NewInternalPort, 'internal port'),
    internalClient: fields.NewInternalClient ?? '',
    enabled: (fields.NewEnabled ?? '1').trim() === '1' || fields.NewEnabled?.trim().toLowerCase() === 'true',
    description: fields.NewPortMappingDescription ?? '',
    leaseDuration: Number(lease),
  }
  return entry
}

/** Reads a port number returned by AddAnyPortMapping (`NewReservedPort`). */
export function parseReservedPort(fields: Record<string, string>): number {
  return port(fields.NewReservedPort, 'reserved port')
}
