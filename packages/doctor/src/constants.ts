// Every number of the doctor, with where it comes from. Each check is bounded so that on a network
// that answers nothing the whole run ends within DOCTOR_BUDGET_MS (the brief: "about 5 s").

/** Bound of the PCP ANNOUNCE and NAT-PMP probes, ms: a LAN gateway answers in milliseconds. */
export const PROBE_TIMEOUT_MS = 1_000
/** Bound of the UPnP search, ms: SSDP answers come within MX (1 s); then the description fetch. */
export const UPNP_SEARCH_MS = 2_000
/** Bound of reading the external address over UPnP, ms. */
export const EXTERNAL_ADDRESS_MS = 1_500
/** Bound of the test mapping (made and removed), ms. */
export const TEST_MAPPING_MS = 2_500
/** Bound of the hairpin connection, ms. */
export const HAIRPIN_MS = 1_000
/** Bound of the NAT behaviour check through the rendezvous server, ms (5 + 2 connections, one CHECK). */
export const SERVER_CHECK_MS = 3_500
/** What the whole run should take at most on a silent network, ms (documented; the bounds above sum below it). */
export const DOCTOR_BUDGET_MS = 5_000
/** Lease of the test mapping, seconds: short, so a crash leaves nothing for long (miniupnpd's PCP floor is 120). */
export const TEST_MAPPING_TTL_S = 120
/** Shown in the router's table for the test mapping (UPnP). */
export const TEST_MAPPING_DESCRIPTION = 'pyp2p-doctor'
/** The rendezvous server's port when `--server host` has none (the protocol's default). */
export const DEFAULT_SERVER_PORT = 8000
/** Line the test listener sends, so the hairpin check knows it reached this very process. */
export const HAIRPIN_GREETING = 'pyp2p-doctor hairpin'
/** Version of the JSON report; bumped on any change that is not an added field. */
export const REPORT_SCHEMA = 'pyp2p-doctor/1'
