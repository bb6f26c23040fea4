// The doctor's report: the object `pyp2p-doctor --json` prints (documented field by field in the
// README). Fields are only ever added; anything else changes REPORT_SCHEMA.

/** How one bounded check ended. */
export type CheckStatus = 'ok' | 'failed' | 'timeout' | 'skipped'

export interface CheckResult {
  name: string
  status: CheckStatus
  ms: number
  /** why it failed, timed out or was skipped */
  error?: { code: string; message: string }
}

export interface ProtocolResult {
  /** true when the gateway answered in this protocol */
  answered: boolean
  /** ms until the answer (or until giving up) */
  ms: number
  /** why not: ERR_TIMEOUT (silent), ERR_GATEWAY (port closed), ERR_UNSUPPORTED_VERSION, ... */
  error?: string
}

export interface UpnpResult extends ProtocolResult {
  /** IGD version of the WAN service found (2 = WANIPConnection:2) */
  version?: 1 | 2
  location?: string
  server?: string
}

export interface ExternalAddressSeen {
  address: string
  /** who reported it: the gateway (by protocol) or the rendezvous server (what it saw) */
  source: 'pcp' | 'natpmp' | 'upnp' | 'server'
  /** the private range it falls in (RFC 1918, RFC 6598 shared address space, ...), if any */
  privateRange?: string
}

export interface DoctorReport {
  schema: string
  /** ISO time the run started */
  startedAt: string
  durationMs: number
  network: {
    interfaces: Array<{ name: string; address: string; family: 4 | 6; netmask: string }>
    defaultRoutes: Array<{ family: 4 | 6; gateway: string; iface: string; localAddress?: string }>
  }
  gateway: {
    /** the IPv4 default gateway the protocols were asked, null without one */
    address: string | null
    pcp: ProtocolResult
    natpmp: ProtocolResult
    upnp: UpnpResult
  }
  external: {
    addresses: ExternalAddressSeen[]
    /** the sources disagree (usually: the router's WAN address is not what the internet sees) */
    differ: boolean
    /** another NAT sits upstream of the router: its WAN address is private, missing, or not what the server saw */
    doubleNat: boolean
    /** an address is in 100.64.0.0/10 (RFC 6598): the provider's carrier-grade NAT */
    cgnat: boolean
  }
  mapping: {
    status: CheckStatus
    method?: 'pcp' | 'natpmp' | 'upnp'
    protocol: 'TCP'
    internalPort?: number
    externalAddress?: string | null
    externalPort?: number
    lifetime?: number
    /** the test mapping was removed again */
    removed: boolean
    /** connecting to our own external address:port reached us (the router loops back) */
    hairpin: 'yes' | 'no' | 'untested'
    error?: string
  }
  /** IPv6: a pinhole for our own address and a test port, made and removed by PCP (skipped without an
   * IPv6 default route and a global IPv6 address) */
  pinhole6: {
    status: CheckStatus
    /** how: a PCP MAP of our address, or an IGD v2 AddPinhole (UPnP) */
    method?: 'pcp' | 'upnp'
    /** our IPv6 address and the port opened */
    address?: string
    port?: number
    lifetime?: number
    removed: boolean
    error?: string
  }
  nat: {
    status: CheckStatus
    /** the rendezvous server asked, host:port */
    server?: string
    /** what the server saw: our public address and port */
    observed?: { address: string; port: number }
    /** how new connections get their external port */
    mapping?: 'none' | 'preserving' | 'endpoint-independent' | 'sequential' | 'random'
    /** step of a sequential NAT */
    delta?: number
    /** what the router does with an unsolicited SYN from the server: reset, drop, or let it in (open) */
    filtering?: 'rst' | 'drop' | 'unknown'
    samples?: Array<{ localPort: number; externalPort: number }>
    error?: string
  }
  verdict: {
    reachability: 'direct' | 'hole-punching' | 'relay' | 'unknown'
    summary: string
    reasons: string[]
  }
  checks: CheckResult[]
  /** names of the checks that ran out of time */
  timedOut: string[]
}
