/** SSDP multicast group and port (UPnP Device Architecture 1.1, section 1.1.2). */
export const SSDP_ADDRESS = '239.255.255.250'
export const SSDP_PORT = 1900
/**
 * MX of our M-SEARCH: devices answer within a random 0..MX seconds (UDA 1.1 section 1.3.2).
 * 1 is the smallest value UDA allows and keeps discovery short; miniupnpd honours it.
 */
export const SSDP_MX = 1
/** Search targets: IGD v2 first (miniupnpd's default), then v1 (UDA: v2 devices answer v1 searches too). */
export const IGD_DEVICE_TYPES = [
  'urn:schemas-upnp-org:device:InternetGatewayDevice:2',
  'urn:schemas-upnp-org:device:InternetGatewayDevice:1',
] as const
/** WAN connection services we can drive, most capable first (IGD v2 adds AddAnyPortMapping). */
export const WAN_SERVICE_TYPES = [
  'urn:schemas-upnp-org:service:WANIPConnection:2',
  'urn:schemas-upnp-org:service:WANIPConnection:1',
  'urn:schemas-upnp-org:service:WANPPPConnection:1',
] as const

/** NAT-PMP server port on the gateway (RFC 6886 section 3). */
export const NATPMP_PORT = 5351
/** NAT-PMP first retransmission after 250 ms, doubling (RFC 6886 section 3.1). */
export const NATPMP_INITIAL_RETRY_MS = 250
/**
 * NAT-PMP tries before giving up. RFC 6886 says 9 (about 64 s in all); we stop earlier because
 * every wait is also bounded by the caller's timeout, and 4 tries (3.75 s) cover a lost datagram.
 */
export const NATPMP_MAX_TRIES = 4

/** Bound of the NAT-PMP and PCP probes during discovery, ms: the SSDP answer window (MX = 1 s). */
export const NATPMP_PROBE_MS = 1_000
/** Default time for discovering gateways, ms: MX (1 s) plus slack for the description fetch. */
export const DEFAULT_DISCOVERY_TIMEOUT_MS = 2_000
/**
 * Once one protocol answered, the others get this long before discovery returns, ms. PCP and NAT-PMP
 * come from the same daemon within a millisecond or two of each other (lab: miniupnpd 2.3.1); an SSDP
 * answer is held back by the device for a random 0..MX s (UDA 1.1 section 1.3.3), so waiting for it
 * would cost up to a second: UPnP is searched again on its own only when it is needed. 25 ms keeps a
 * PCP/NAT-PMP-only discovery under 100 ms on a loaded machine (bench:nat: 82-96 ms with 50 ms).
 */
export const DEFAULT_DISCOVERY_GRACE_MS = 25
/** Old name of the grace (`settle`), kept for callers that set it. */
export const DEFAULT_DISCOVERY_SETTLE_MS = DEFAULT_DISCOVERY_GRACE_MS
/** Default bound for one request to a gateway (HTTP/SOAP or NAT-PMP), ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 3_000
/** Default lease we ask for, seconds: 2 hours, the lifetime RFC 6886 section 3.3 recommends. */
export const DEFAULT_TTL_S = 7_200
/** Shortest lease we ask for, seconds: shorter ones would be renewed in a busy loop. */
export const MIN_TTL_S = 2
/** Renew when this fraction of the lease has passed (RFC 6886 section 3.3: "halfway to expiry"). */
export const RENEW_AT_FRACTION = 0.5
/** After a failed renewal, try again after this many ms (or sooner, at half the remaining lease). */
export const RENEW_RETRY_MS = 5_000
/** ...but not sooner than this, ms, so a gateway that fails at once is not hammered. */
export const RENEW_RETRY_MIN_MS = 500
/** Permanent (lease 0) UPnP mappings are checked, and put back if gone, this often, ms. */
export const PERMANENT_CHECK_MS = 60_000
/** Default description shown in the router's mapping table. */
export const DEFAULT_DESCRIPTION = 'pyp2p'
/** Ports tried after a conflict (UPnP 718/729) before giving up. */
export const MAX_PORT_ATTEMPTS = 8
/** Lowest port we pick at random after a conflict (below are well-known ports, RFC 6335). */
export const RANDOM_PORT_MIN = 1_024
/** Largest HTTP body we read from a gateway: descriptions are a few kB; this bounds a hostile one. */
export const MAX_HTTP_BODY_BYTES = 256 * 1024
/** Deepest XML nesting we accept (IGD descriptions nest about 8 deep). */
export const MAX_XML_DEPTH = 32
/** Largest SSDP datagram we parse (they are a few hundred bytes). */
export const MAX_SSDP_BYTES = 8 * 1024
/**
 * NAT-PMP epoch check (RFC 6886 section 3.6): the gateway restarted when its new epoch is less than
 * the old one plus 7/8 of the time that passed, minus 2 s of slack.
 */
export const EPOCH_SLACK_S = 2

/** UPnP IGD error codes we act on (WANIPConnection:2 service spec, section 2.5). */
export const UPNP_ERROR = {
  INVALID_ACTION: 401,
  INVALID_ARGS: 402,
  NOT_AUTHORIZED: 606,
  ARRAY_INDEX_INVALID: 713,
  NO_SUCH_ENTRY: 714,
  CONFLICT: 718,
  SAME_PORT_REQUIRED: 724,
  ONLY_PERMANENT_LEASES: 725,
  NO_PORT_MAPS_AVAILABLE: 728,
  CONFLICT_WITH_OTHER_MECHANISMS: 729,
} as const
/** Longest lease IGD v2 accepts, seconds (WANIPConnection:2, NewLeaseDuration range). */
export const UPNP_MAX_LEASE_S = 604_800
/** Bound on GetGenericPortMappingEntry calls in list(). */
export const MAX_LIST_ENTRIES = 1_024
/** Bound of one OS command that reads the routing table (`netstat -rn`, `route print`), ms. */
export const ROUTE_COMMAND_TIMEOUT_MS = 2_000
/** PCP server port on the gateway, shared with NAT-PMP (RFC 6887 section 19.1). */
export const PCP_PORT = 5351
/** PCP protocol version (RFC 6887 section 7.1); NAT-PMP is version 0. */
export const PCP_VERSION = 2
/** Largest PCP message, bytes (RFC 6887 section 7). */
export const PCP_MAX_MESSAGE_BYTES = 1_100
/** PCP common header size, requests and responses alike, bytes (RFC 6887 sections 7.1, 7.2). */
export const PCP_HEADER_BYTES = 24
/** MAP opcode-specific data, bytes (RFC 6887 section 11.1). */
export const PCP_MAP_DATA_BYTES = 36
/** Mapping nonce length, bytes (RFC 6887 section 11.1: 96 bits). */
export const PCP_NONCE_BYTES = 12
/** PCP opcodes (RFC 6887 section 19.2). */
export const PCP_OPCODE = { ANNOUNCE: 0, MAP: 1, PEER: 2 } as const
/** IANA protocol numbers used in MAP (RFC 6887 section 11.1). */
export const PCP_PROTOCOL = { TCP: 6, UDP: 17 } as const
/**
 * First retransmission of a PCP request, ms, doubling up to {@link PCP_MAX_RETRY_MS}. RFC 6887
 * section 8.1.1 says 3 s; the gateway is one hop away on the LAN, so we use NAT-PMP's 250 ms
 * (RFC 6886 section 3.1) as the first gap: a lost datagram then costs 250 ms, not 3 s.
 */
export const PCP_INITIAL_RETRY_MS = 250
/** Lifetime of the throwaway mapping that reads a PCP-only gateway's external address, seconds. */
export const PCP_PROBE_LIFETIME_S = 30
/** Longest gap between PCP retransmissions, ms (every wait is also bound by the caller's timeout). */
export const PCP_MAX_RETRY_MS = 4_000
/**
 * PCP epoch check (RFC 6887 section 8.5): the server lost its state when its epoch went back by more
 * than this many seconds, or when its epoch and our clock advanced by more than 2 s + 1/16 apart.
 */
export const PCP_EPOCH_BACKWARDS_SLACK_S = 1
export const PCP_EPOCH_SLACK_S = 2
/** PCP result codes (RFC 6887 section 7.4). */
export const PCP_RESULT = {
  SUCCESS: 0,
  UNSUPP_VERSION: 1,
  NOT_AUTHORIZED: 2,
  MALFORMED_REQUEST: 3,
  UNSUPP_OPCODE: 4,
  UNSUPP_OPTION: 5,
  MALFORMED_OPTION: 6,
  NETWORK_FAILURE: 7,
  NO_RESOURCES: 8,
  UNSUPP_PROTOCOL: 9,
  USER_EX_QUOTA: 10,
  CANNOT_PROVIDE_EXTERNAL: 11,
  ADDRESS_MISMATCH: 12,
  EXCESSIVE_REMOTE_PEERS: 13,
} as const
/** NAT-PMP result codes (RFC 6886 section 3.5). */
export const NATPMP_RESULT = {
  UNSUPPORTED_VERSION: 1,
  NOT_AUTHORIZED: 2,
  NETWORK_FAILURE: 3,
  OUT_OF_RESOURCES: 4,
  UNSUPPORTED_OPCODE: 5,
} as const
/** Port PCP clients listen on for a server's unsolicited ANNOUNCE (RFC 6887 section 19.1). */
export const PCP_CLIENT_PORT = 5350
/** Where a PCP server multicasts its unsolicited ANNOUNCE after a restart (RFC 6887 section 14.1.3). */
export const PCP_ANNOUNCE_GROUPS = { 4: '224.0.0.1', 6: 'ff02::1' } as const
/**
 * Longest random wait between an unsolicited ANNOUNCE showing a gateway restart and re-mapping, ms:
 * RFC 6887 section 14.1.3 has every client of the rebooted gateway wait a random 0..5 s, so they do
 * not all send at once.
 */
export const PCP_ANNOUNCE_MAX_DELAY_MS = 5_000
/** The IGD v2 IPv6 firewall service (UPnP WANIPv6FirewallControl:1, 2010). */
export const PINHOLE_SERVICE = 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1'
/** Longest pinhole lease, seconds: A_ARG_TYPE_LeaseTime is 1..86400 (WANIPv6FirewallControl:1 2.2.7);
 * miniupnpd 2.3.1 answers 402 outside it (lab). */
export const PINHOLE_MAX_LEASE_S = 86_400
/** SSDP over IPv6: the link-local multicast group (UDA 1.1 section 1.1.2). */
export const SSDP_ADDRESS6 = 'ff02::c'
/**
 * How long `map({ family: 6 })` waits for PCP on the IPv6 gateway before trying an IGD v2 pinhole, ms
 * (when UPnP is among the methods): as long as the PCP probe of discovery. A gateway without PCP
 * usually refuses at once (ICMP port unreachable), so this bounds only the silent ones.
 */
export const PCP_IPV6_PROBE_MS = 1_000
/** WANIPv6FirewallControl:1 error codes we act on (its section 2.4). 704 is the spec's "no such
 * pinhole"; miniupnpd 2.3.1 answers an unknown UniqueID with 402 instead (lab), so both mean gone. */
export const PINHOLE_ERROR = {
  FIREWALL_DISABLED: 702,
  PINHOLE_SPACE_EXHAUSTED: 701,
  INBOUND_PINHOLE_NOT_ALLOWED: 703,
  NO_SUCH_ENTRY: 704,
} as const
