// The SOAP side of IGD v2 pinholes (UPnP WANIPv6FirewallControl:1): the request envelope, where the
// service's control URL is in a device description, and readers for what AddPinhole and
// GetOutboundPinholeTimeout return. Replies arrive in the xml2js-0.1 shape of xml.ts, as `unknown`.
import { PINHOLE_SERVICE } from './constants.js'
import { NatError } from './errors.js'
import { parseActionResponse } from './soap.js'
import type { Protocol } from './types.js'

const escapeXml = (value: string) =>
  value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  )

/** The SOAP envelope for `action` with its in-arguments, in order (UPnP DA 1.1 section 3.2.1). */
export function pinholeEnvelope(action: string, args: ReadonlyArray<[string, string | number]>): string {
  if (!/^[A-Za-z]+$/.test(action))
    throw NatError.INVALID_ARGUMENT(`bad SOAP action ${JSON.stringify(action)}`)
  const inner = args.map(([k, v]) => `<${k}>${escapeXml(String(v))}</${k}>`).join('')
  return (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" ' +
    's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>' +
    `<u:${action} xmlns:u="${PINHOLE_SERVICE}">${inner}</u:${action}></s:Body></s:Envelope>`
  )
}

/** IANA protocol numbers, as A_ARG_TYPE_Protocol carries them. */
export const protocolNumber = (p: Protocol): number => (p === 'TCP' ? 6 : 17)

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Every `<service>` of a description (any depth, bounded) whose serviceType is `type`. */
function services(node: unknown, type: string, depth = 0, out: Record<string, unknown>[] = []) {
  if (depth > 16) return out
  if (Array.isArray(node)) for (const n of node) services(n, type, depth + 1, out)
  else if (isRecord(node)) {
    if (node.serviceType === type) out.push(node)
    for (const [key, child] of Object.entries(node)) if (key !== '@') services(child, type, depth + 1, out)
  }
  return out
}

/**
 * The control URL of the WANIPv6FirewallControl:1 service in a device description, resolved against
 * URLBase or the description's own URL. ERR_NOT_SUPPORTED when the device has no such service (IGD v1,
 * or v2 built without IPv6 firewall control); ERR_INVALID_RESPONSE when its control URL is unusable.
 */
export function pinholeControlUrl(description: unknown, location: URL): URL {
  const found = services(description, PINHOLE_SERVICE)[0]
  if (found === undefined)
    throw NatError.NOT_SUPPORTED(`IPv6 pinholes on the IGD at ${location.href} (no ${PINHOLE_SERVICE})`)
  const control = found.controlURL
  const base = isRecord(description) && typeof description.URLBase === 'string' ? description.URLBase : ''
  try {
    if (typeof control !== 'string' || control.trim() === '') throw new Error('empty controlURL')
    return new URL(control.trim(), base.trim() === '' ? location : new URL(base.trim(), location))
  } catch (cause) {
    throw NatError.INVALID_RESPONSE('WANIPv6FirewallControl controlURL', cause)
  }
}

function unsigned(text: string | undefined, what: string, max: number): number {
  const t = (text ?? '').trim()
  if (!/^[0-9]{1,10}$/.test(t) || Number(t) > max) {
    throw NatError.INVALID_RESPONSE(`${what}`, new Error(`bad value ${JSON.stringify(text)}`))
  }
  return Number(t)
}

/** AddPinhole's UniqueID (A_ARG_TYPE_UniqueID: ui2, 0..65535). */
export function parseAddPinhole(body: unknown): number {
  return unsigned(parseActionResponse(body, 'AddPinhole').UniqueID, 'AddPinhole UniqueID', 0xffff)
}

/** GetOutboundPinholeTimeout's OutboundPinholeTimeout, seconds (ui4). */
export function parseOutboundPinholeTimeout(body: unknown): number {
  const out = parseActionResponse(body, 'GetOutboundPinholeTimeout')
  return unsigned(out.OutboundPinholeTimeout, 'OutboundPinholeTimeout', 0xffffffff)
}

/** GetFirewallStatus: is the IPv6 firewall on, and may we open inbound pinholes? */
export function parseFirewallStatus(body: unknown): { enabled: boolean; inboundAllowed: boolean } {
  const out = parseActionResponse(body, 'GetFirewallStatus')
  const bool = (v: string | undefined, what: string) => {
    const t = (v ?? '').trim().toLowerCase()
    if (t === '1' || t === 'true' || t === 'yes') return true
    if (t === '0' || t === 'false' || t === 'no') return false
    throw NatError.INVALID_RESPONSE(what, new Error(`bad boolean ${JSON.stringify(v)}`))
  }
  return {
    enabled: bool(out.FirewallEnabled, 'FirewallEnabled'),
    inboundAllowed: bool(out.InboundPinholeAllowed, 'InboundPinholeAllowed'),
  }
}
