// What map() accepts, checked once: every later step (first mapping, renewals, the delete) works
// from the normalised request, which also carries the PCP nonce of this mapping.
import { DEFAULT_DESCRIPTION, DEFAULT_TTL_S, MIN_TTL_S } from './constants.js'
import { NatError } from './errors.js'
import { newPcpNonce } from './pcp-client.js'
import type { Protocol, RequestOptions } from './types.js'

export interface MapOptions extends RequestOptions {
  internalPort: number
  /** external port to ask for; default the internal port */
  externalPort?: number
  /** fail with ERR_PORT_IN_USE rather than take another external port; default false */
  exactExternalPort?: boolean
  /** default 'TCP' */
  protocol?: Protocol
  /** lease to ask for, seconds; default 7200. Renewed at half-time while the client is open */
  ttl?: number
  /** shown in the router's table (UPnP); default 'pyp2p' */
  description?: string
  /**
   * 4 (default): a port mapping on the IPv4 NAT. 6: open the port of our IPv6 address in the IPv6
   * gateway's firewall (a PCP MAP of an IPv6 address: a pinhole, the external address and port are our
   * own); needs PCP in `methods`.
   */
  family?: 4 | 6
}

/** A normalised map() request. */
export interface MapRequest {
  internalPort: number
  protocol: Protocol
  ttl: number
  description: string
  externalPort: number
  exactExternalPort: boolean
  /** PCP mapping nonce (RFC 6887 section 11.1): the same for renewals and the delete */
  nonce: Buffer
  family: 4 | 6
}

export function checkPort(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw NatError.INVALID_ARGUMENT(`${name} must be an integer port 1..65535, got ${String(value)}`)
  }
  return value
}

/** Validates map() options; throws ERR_INVALID_ARGUMENT before any traffic. */
export function toMapRequest(opts: MapOptions): MapRequest {
  const internalPort = checkPort(opts.internalPort, 'internalPort')
  const externalPort =
    opts.externalPort === undefined ? internalPort : checkPort(opts.externalPort, 'externalPort')
  const protocol = opts.protocol ?? 'TCP'
  if (protocol !== 'TCP' && protocol !== 'UDP')
    throw NatError.INVALID_ARGUMENT("protocol must be 'TCP' or 'UDP'")
  const ttl = opts.ttl ?? DEFAULT_TTL_S
  if (!Number.isInteger(ttl) || ttl < MIN_TTL_S) {
    throw NatError.INVALID_ARGUMENT(`ttl must be an integer number of seconds >= ${MIN_TTL_S}`)
  }
  const family = opts.family ?? 4
  if (family !== 4 && family !== 6) throw NatError.INVALID_ARGUMENT('family must be 4 or 6')
  // Control characters would break the router's table.
  const description = (opts.description ?? DEFAULT_DESCRIPTION).replace(/\p{Cc}/gu, ' ').slice(0, 255)
  return {
    internalPort,
    protocol,
    ttl,
    description,
    exactExternalPort: opts.exactExternalPort ?? false,
    externalPort,
    nonce: newPcpNonce(),
    family,
  }
}
