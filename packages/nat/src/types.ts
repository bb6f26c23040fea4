/** Transport protocol of a port mapping. */
export type Protocol = 'TCP' | 'UDP'

/** How a mapping was made. */
export type MappingMethod = 'pcp' | 'natpmp' | 'upnp'

/** What a gateway speaks: PCP, NAT-PMP, or UPnP IGD v2 or v1 (by its WAN service). */
export type GatewayProtocol = 'pcp' | 'natpmp' | 'upnp-igd2' | 'upnp-igd1'

export interface UpnpGatewayInfo {
  /** the device description URL from SSDP's LOCATION header */
  location: string
  /** the WAN service we drive, e.g. 'urn:schemas-upnp-org:service:WANIPConnection:2' */
  serviceType: string
  /** IGD version of that service (WANIPConnection:2 = 2) */
  version: 1 | 2
  /** SSDP SERVER header, if sent */
  server?: string
  /** ms from sending M-SEARCH to having read the description */
  ms?: number
}

export interface NatPmpGatewayInfo {
  /** external address the gateway reported; null when it has none (result code 3) */
  externalAddress: string | null
  /** seconds since the gateway's mapping table was (re)started (RFC 6886 section 3.6) */
  epoch?: number
  /** ms from sending the request to its answer */
  ms?: number
}

export interface PcpGatewayInfo {
  /** seconds since the server's mapping state was (re)started (RFC 6887 section 8.5) */
  epoch: number
  /** ms from sending ANNOUNCE to its answer */
  ms?: number
}

/** A router found by {@link discoverGateways}. */
export interface Gateway {
  /** the router's address on our side */
  address: string
  /** our own address facing it (mappings point here) */
  localAddress: string
  /** what it speaks, preferred first */
  protocols: GatewayProtocol[]
  upnp?: UpnpGatewayInfo
  natpmp?: NatPmpGatewayInfo
  pcp?: PcpGatewayInfo
}

/** A mapping the router granted. */
export interface Mapping {
  method: MappingMethod
  /** 4: a port mapping on the NAT; 6: a pinhole for our IPv6 address (external = internal address) */
  family: 4 | 6
  protocol: Protocol
  internalAddress: string
  internalPort: number
  /** null when the router reports no external address (see the NO_EXTERNAL_ADDRESS warning) */
  externalAddress: string | null
  externalPort: number
  /** granted lease in seconds; 0 for a permanent mapping (router accepted only those) */
  ttl: number
  /** true when the router took only a permanent lease: it is deleted by unmap()/close() */
  permanent: boolean
  /** when the lease ends (ms since the epoch) unless renewed; null when permanent */
  expiresAt: number | null
  /** ours (UPnP); '' for NAT-PMP and PCP, which carry none */
  description: string
  /** address of the gateway holding it */
  gateway: string
  /** IPv6 pinholes by UPnP (IGD v2 WANIPv6FirewallControl): the router's UniqueID for it */
  pinholeId?: number
}

/** A row of the router's mapping table (UPnP only). */
export interface MappingEntry {
  protocol: Protocol
  externalPort: number
  internalAddress: string
  internalPort: number
  description: string
  enabled: boolean
  /** remaining lease, seconds; 0 = permanent */
  ttl: number
  /** true when this client made it */
  own: boolean
}

export interface ExternalAddress {
  /** null when the router reports none: see the NO_EXTERNAL_ADDRESS warning */
  address: string | null
  method: MappingMethod
  gateway: string
  /** true when the address is private (another NAT upstream) or the router reports none */
  private: boolean
}

/**
 * Non-fatal conditions reported through the `warning` event:
 * - DOUBLE_NAT: the router's external address is itself private (`range` says which range);
 * - NO_EXTERNAL_ADDRESS: the router reports none (UPnP: empty or 0.0.0.0; NAT-PMP: result 3).
 *   miniupnpd does this when its own WAN address is private, so it usually means double NAT too.
 */
export interface NatWarning {
  code: 'DOUBLE_NAT' | 'NO_EXTERNAL_ADDRESS'
  message: string
  externalAddress: string | null
  range?: string
}

export interface RequestOptions {
  signal?: AbortSignal
  /** ms; default 3000 per request to a gateway (DEFAULT_REQUEST_TIMEOUT_MS) */
  timeout?: number
}
