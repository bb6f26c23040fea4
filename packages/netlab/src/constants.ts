// Every number and fixed name the lab uses, with where it comes from.

/** The lab's "internet": a non-reserved range, because miniupnpd 2.3.1 refuses to forward on a
 * reserved WAN address (RFC 1918, RFC 6598, the documentation ranges; docs/lab.md). It exists
 * only on the bridge inside the lab's own internet namespace and is never routed from the host. */
export const INTERNET_SUBNET = '11.0.0.0/24'
export const INTERNET_PREFIX = '11.0.0.'
/** the internet bridge's own address: only a placeholder gateway, it forwards nothing */
export const INTERNET_GATEWAY_HOST = 1
/** first address handed to public hosts (11.0.0.10, .11, ...) */
export const PUBLIC_HOST_FIRST = 10
/** first address handed to routers on the internet (11.0.0.100, .101, ...) */
export const ROUTER_WAN_FIRST = 100
/** so at most 90 public hosts (.10-.99) and 151 routers on the internet (.100-.250) */
export const PUBLIC_HOST_LAST = ROUTER_WAN_FIRST - 1
/** LANs are 10.<n>.0.0/24 with n = 1, 2, ... in the order routers are declared */
export const LAN_PREFIX_BYTE = 10
/** in a LAN: the router is .1, hosts and routers behind it get .2, .3, ... */
export const LAN_ROUTER_HOST = 1
export const LAN_FIRST_HOST = 2
export const SUBNET_BITS = 24
/** highest host address handed out in a /24 (254 is the last usable one; a margin is kept) */
export const LAST_HOST = 250
/** LANs are numbered 10.1 .. 10.250 */
export const MAX_ROUTERS = 250

/** IPv6 (routers with `ipv6: true`): the internet is fd11::/64 (the bridge fd11::1, every node the
 * same last number as its IPv4 address), LAN n is fd00:<n>::/64; unique local addresses (RFC 4193), so
 * nothing outside the lab routes them. IPv6 is routed, not translated: miniupnpd opens pinholes. */
export const INTERNET6_PREFIX = 'fd11::'
export const LAN6_HEAD = 'fd00:'
export const SUBNET6_BITS = 64

/** Interface names inside the lab's namespaces (each namespace has its own name space for links, so
 * these never collide between labs; the 15-character IFNAMSIZ limit is far away). */
export const IF_UPLINK_HOST = 'eth0'
export const IF_UPLINK_ROUTER = 'wan0'
export const IF_BRIDGE = 'br0'
/** the parent-side end of a node's uplink veth, `p<index>`, enslaved to the parent's bridge */
export const IF_PORT_PREFIX = 'p'

/** Namespace names: `nl<pid>-<tag>-<node>` for labs of a process (removed by the next start once that
 * process is gone), `nlcli-<scenario>-<node>` for labs brought up by `npm run lab -- up`. */
export const PREFIX_HEAD = 'nl'
export const CLI_PREFIX_HEAD = 'nlcli-'
/** name of the internet namespace's node */
export const INTERNET_NODE = 'internet'
/** node names: short, safe in a namespace name and a file name */
export const NODE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,19}$/

/** Directory (under os.tmpdir()) that holds one directory per lab: miniupnpd configs, leases, pids. */
export const TMP_DIR_NAME = 'pyp2p-netlab'

/** Default bound on `exec` and `waitForLine`: below vitest's 60 s test timeout (vitest.shared.ts) so
 * a hung command fails with its own message first. */
export const DEFAULT_EXEC_TIMEOUT_MS = 30_000
export const DEFAULT_WAIT_TIMEOUT_MS = 30_000
/** Upper bound for miniupnpd to print its "listening" lines; it takes ~10 ms when healthy. */
export const UPNP_READY_TIMEOUT_MS = 10_000
/** How long close() waits for a killed process to be reaped before giving up on it. */
export const KILL_WAIT_MS = 5_000
/** restartUpnp: how long miniupnpd may take to exit after SIGTERM before it gets SIGKILL (it exits
 * within milliseconds when healthy: it only sends SSDP byebyes and closes its sockets). */
export const UPNP_STOP_TIMEOUT_MS = 5_000

/** miniupnpd's HTTP port inside a router (any free port works; the namespace is private). */
export const UPNP_HTTP_PORT = 5000
/** NAT-PMP server port, RFC 6886 section 3 */
export const NATPMP_PORT = 5351
/** a fixed UPnP device uuid, so descriptions are reproducible (the last 12 digits vary per router) */
export const UPNP_UUID_HEAD = '7c0b8c4e-3d5a-4f7e-9b1a-'

/** sequential NAT: new mappings take ports SEQ_FIRST, SEQ_FIRST+1, ... (wrapping after SEQ_SPAN);
 * built with nft `numgen inc`, evaluated once per new connection (conntrack NEW). */
export const SEQ_FIRST_PORT = 20_000
/** how many ports the sequence has before it wraps (the size of the nft map that holds them) */
export const SEQ_SPAN = 1000
/** distance between consecutive mappings' ports */
export const SEQ_STEP = 1
/** nft numgen granularity for the `loss` probability (parts per million) */
export const LOSS_SCALE = 1_000_000

/** conntrack sysctls set by `conntrackTimeout` (the TCP states plus UDP and ICMP),
 * net.netfilter.nf_conntrack_* in the router's namespace (per-namespace since Linux 4.x). */
export const CONNTRACK_TIMEOUT_SYSCTLS = [
  'nf_conntrack_tcp_timeout_established',
  'nf_conntrack_tcp_timeout_syn_sent',
  'nf_conntrack_tcp_timeout_syn_recv',
  'nf_conntrack_tcp_timeout_fin_wait',
  'nf_conntrack_tcp_timeout_close_wait',
  'nf_conntrack_tcp_timeout_last_ack',
  'nf_conntrack_tcp_timeout_time_wait',
  'nf_conntrack_tcp_timeout_unacknowledged',
  'nf_conntrack_udp_timeout',
  'nf_conntrack_udp_timeout_stream',
  'nf_conntrack_icmp_timeout',
] as const

/** Binaries the lab runs (Debian packages: iproute2, nftables, conntrack, miniupnpd-nftables,
 * miniupnpc, natpmpc, util-linux for setpriv, procps for sysctl). */
export const REQUIRED_BINARIES = [
  'ip',
  'nft',
  'conntrack',
  'miniupnpd',
  'upnpc',
  'natpmpc',
  'setpriv',
  'sysctl',
] as const

/**
 * The shortest PCP lease the lab's miniupnpd grants (its `min_lifetime`; 120 s by default, RFC 6887
 * section 15's recommendation). Short in the lab so renewals and lease expiry are seen in seconds.
 */
export const LAB_PCP_MIN_LIFETIME_S = 12

/** The NFQUEUE queue a router's WAN egress waits in when it has `latencyMs` (one per namespace). */
export const LATENCY_QUEUE = 0
/** How long the delay daemon (scripts/nfq-delay.py) may take to bind its queue, ms. */
export const LATENCY_READY_TIMEOUT_MS = 10_000
/** The largest `latencyMs` a router may have. */
export const MAX_LATENCY_MS = 5_000
