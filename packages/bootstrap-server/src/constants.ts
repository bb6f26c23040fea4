/**
 * Every default of the bootstrap server, with where it comes from. Each is also an option of
 * `BootstrapServer` (see options.ts) and, where it makes sense, a CLI flag.
 */
import {
  DEFAULT_MAX_PER_PREFIX,
  DEFAULT_IPV4_PREFIX_LENGTH as LIMITS_IPV4_PREFIX_LENGTH,
  DEFAULT_IPV6_HOST_LENGTH as LIMITS_IPV6_HOST_LENGTH,
  DEFAULT_IPV6_PREFIX_LENGTH as LIMITS_IPV6_PREFIX_LENGTH,
} from '@pyp2p/limits'
import { MAX_CLIENT_LINE_LENGTH, DEFAULT_PORT as PROTOCOL_DEFAULT_PORT } from '@pyp2p/rendezvous-protocol'

/** Listen on every IPv4 interface, as pyp2p's server did (`reactor.listenTCP(8000, ...)`). */
export const DEFAULT_HOST = '0.0.0.0'

/** pyp2p's rendezvous port. */
export const DEFAULT_PORT = PROTOCOL_DEFAULT_PORT

/**
 * Connections held at once. 20,000 is what one process may open here (`ulimit -n` 20,000) and what the
 * benchmark targets (19,000 registered nodes). Raise it together with the fd limit.
 */
export const DEFAULT_MAX_CONNECTIONS = 20_000

/**
 * Connections from one IP (an IPv6 /64 counts as one IP: a host has all of it). A NAT of a few hundred hosts, each running a node with a simultaneous
 * connection plus some NAT tests, fits; one host cannot take the whole server.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 256

/** Registered nodes in total (passive ones outlive their connection). */
export const DEFAULT_MAX_NODES = 100_000

/** Registered nodes per IP: many nodes behind one NAT work (pyp2p allowed one), but not unboundedly. */
export const DEFAULT_MAX_NODES_PER_IP = 256

/** Pending punches (candidates) for one target node. pyp2p: at most 100 candidates per node. */
export const DEFAULT_MAX_CANDIDATES_PER_NODE = 100

/** Pending punches one connection may have started as candidate. */
export const DEFAULT_MAX_PUNCHES_PER_CONNECTION = 16

/** Longest line accepted from a client (the protocol's limit). */
export const DEFAULT_MAX_LINE_LENGTH = MAX_CLIENT_LINE_LENGTH

/**
 * Lines past `maxLineLength` but below this many times it are answered with `ERROR ERR_LINE_TOO_LONG`
 * before closing; longer ones are cut off by the framing layer without a reply (it never buffers them).
 */
export const HARD_LINE_LIMIT_FACTOR = 4

/**
 * Unsent bytes held for a client that does not read. 64 KiB is seven full `NODES` replies; a client
 * that lets more pile up is closed (`@pyp2p/framing`'s `ERR_SEND_BUFFER_FULL`).
 */
export const DEFAULT_MAX_SEND_BUFFER = 64 * 1024

/**
 * A connection that is not a simultaneous node and not in a punch is closed after this long without a
 * complete line. pyp2p had none; 60 s is ample for BOOTSTRAP/SOURCE/PASSIVE exchanges.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000

/**
 * How long a target has to answer a CHALLENGE (ACCEPT/REJECT). pyp2p's client waited 10 s for FIGHT, so
 * the server's verdict reaches a client written the original way before it gives up.
 */
export const DEFAULT_CHALLENGE_TIMEOUT_MS = 10_000

/** How long a registration lives. pyp2p: `node_lifetime = 60 * 60 * 24` (24 h). */
export const DEFAULT_NODE_LIFETIME_MS = 24 * 60 * 60 * 1000

/**
 * Period of the one sweep timer (idle connections, punch timeouts, node lifetime). pyp2p cleaned up every
 * 5 min and only on disconnects; 1 s keeps every timeout accurate to a second at a cost of walking only
 * the expired entries (each table is kept in expiry order).
 */
export const DEFAULT_SWEEP_INTERVAL_MS = 1_000

/** Sustained lines per second one connection may send; more is a flood and closes it. */
export const DEFAULT_LINE_RATE = 50

/** Lines a connection may send in one burst before the rate applies. */
export const DEFAULT_LINE_BURST = 100

/**
 * Added to both FIGHT delays: time for the clients to read the line and start connecting. It does not
 * affect how close together the SYNs leave, only how late.
 */
export const DEFAULT_FIGHT_MARGIN_MS = 10

/** Round-trip time assumed for a side the server has no PING/PONG measurement of yet. */
export const DEFAULT_RTT_MS = 100

/** Weight of a new RTT sample in the smoothed RTT (TCP's SRTT uses 1/8; fewer samples here, so 1/4). */
export const RTT_SMOOTHING = 0.25

/**
 * TCP keep-alive idle time on client connections. The framing default (5 s) would make 19,000 idle
 * connections send ~4,000 probes a second; 60 s still finds dead simultaneous nodes within minutes.
 */
export const DEFAULT_KEEPALIVE_DELAY_MS = 60_000

/** Extra accepts beyond `maxConnections` that still get an `ERROR ERR_TOO_MANY_CONNECTIONS` line. */
export const CONNECTION_OVERFLOW_SLACK = 256

/** How long `close()` waits for connections to flush their last line before destroying them. */
export const SHUTDOWN_GRACE_MS = 2_000

/**
 * Accept backlog. Node's default (511) overflows when a few thousand nodes reconnect at once (a server
 * restart); Linux caps it at `net.core.somaxconn` (4,096 since kernel 5.4).
 */
export const DEFAULT_BACKLOG = 4096

/**
 * How long a dial-back (`CHECK`) may take to connect and hand over its line, ms. A reachable port
 * answers within one round trip; pyp2p's forwarding check used a few seconds. Short, so a check cannot
 * hold a socket long.
 */
export const DEFAULT_DIAL_BACK_TIMEOUT_MS = 3_000

/** `CHECK`s one IP may start in a burst: a node checks its port, then maybe a mapping, a few times. */
export const DEFAULT_CHECK_BURST = 5

/** After the burst, one more `CHECK` per IP per this many ms, so the server is no port scanner. */
export const DEFAULT_CHECK_INTERVAL_MS = 10_000

/** Dial-backs running at once on the whole server (each holds one outgoing socket for at most 3 s). */
export const DEFAULT_MAX_PENDING_CHECKS = 256

/** Per-IP `CHECK` rate buckets kept at most (the least recently used is forgotten first). */
export const MAX_CHECK_BUCKETS = 100_000

/**
 * Connections from one network prefix (an IPv4 /24, an IPv6 /48): @pyp2p/limits' DEFAULT_MAX_PER_PREFIX
 * (four busy NAT addresses' worth; 5 % of the default table). go-libp2p's resource manager limits
 * connections per /48 as well. When the table is full, fairness (eviction from the most-represented
 * prefix) applies on top.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_PREFIX = DEFAULT_MAX_PER_PREFIX

/** Registered nodes per network prefix (IPv4 /24, IPv6 /48): the same reasoning as for connections. */
export const DEFAULT_MAX_NODES_PER_PREFIX = DEFAULT_MAX_PER_PREFIX

/**
 * Pending punches on the whole server. 16 per connection times 20,000 connections was the only bound
 * before; each punch lives at most `challengeTimeoutMs` (10 s), so 20,000 is 2,000 punches a second.
 */
export const DEFAULT_MAX_PENDING_PUNCHES = 20_000

/** Pending punches started from one IP (an IPv6 /64): four connections' worth of `maxPunchesPerConnection`. */
export const DEFAULT_MAX_PUNCHES_PER_IP = 64

/** Pending punches started from one network prefix (IPv4 /24, IPv6 /48): four IPs' worth. */
export const DEFAULT_MAX_PUNCHES_PER_PREFIX = 256

/** Dial-backs running at once for one IP (an IPv6 /64): a few nodes behind one NAT checking together. */
export const DEFAULT_MAX_PENDING_CHECKS_PER_IP = 8

/** Dial-backs running at once for one network prefix: an eighth of `maxPendingChecks`. */
export const DEFAULT_MAX_PENDING_CHECKS_PER_PREFIX = 32

/** `CHECK`s one network prefix may start in a burst: four IPs' bursts (the per-IP limit still applies). */
export const DEFAULT_CHECK_PREFIX_BURST = 4 * DEFAULT_CHECK_BURST

/** After that burst, one more `CHECK` per prefix per this many ms: four IPs' rate. */
export const DEFAULT_CHECK_PREFIX_INTERVAL_MS = DEFAULT_CHECK_INTERVAL_MS / 4

/**
 * A connection that has sent no complete line this long after it was accepted is closed with
 * `ERR_HANDSHAKE_TIMEOUT`: silent sockets are the cheapest way to hold slots. 10 s is the dht-msg
 * relay's handshake timeout and pyp2p's client timeouts; every client sends its first line at once.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000

/** Network prefixes: IPv4 /24 and IPv6 /48, an IPv6 /64 counted as one IP (@pyp2p/limits' defaults). */
export const DEFAULT_IPV4_PREFIX_LENGTH = LIMITS_IPV4_PREFIX_LENGTH
export const DEFAULT_IPV6_PREFIX_LENGTH = LIMITS_IPV6_PREFIX_LENGTH
export const DEFAULT_IPV6_HOST_LENGTH = LIMITS_IPV6_HOST_LENGTH

/**
 * Bytes of the per-connection nonce in `HELLO ... nonce=<nonce>` (22 base64url characters): 128 bits, so
 * no two connections of any server share one. Derived from a per-process secret and the connection's id
 * (ownership.ts), so a connection stores nothing for it.
 */
export const HELLO_NONCE_BYTES = 16

/** Bytes of the random server id a server without `serverId` announces (`server=<16 base64url>`). */
export const RANDOM_SERVER_ID_BYTES = 12

/**
 * Scale-out on Redis (`redis` option, docs/scale-out.md): longest wait for a Redis reply before a
 * command is served from this instance's own state (ms). A loopback or LAN Redis answers in well under
 * 1 ms; 250 ms is far past any healthy reply and still a short pause for the client.
 */
export const DEFAULT_REDIS_TIMEOUT_MS = 250

/** Time to reach Redis at start before giving up (the CLI exits with code 2), ms. */
export const DEFAULT_REDIS_CONNECT_TIMEOUT_MS = 3_000

/**
 * TTL in Redis of a simultaneous node's entry (ms), refreshed every third of it while its connection
 * lives: what an instance killed with SIGKILL leaves listed at most. Passive entries live
 * `nodeLifetimeMs`, as in memory (they outlive their connection there too).
 */
export const DEFAULT_REDIS_ENTRY_TTL_MS = 30_000

/**
 * Prefix of every key and channel. The `{hash tag}` puts every key in one Redis Cluster slot: the
 * scripts touch several keys (the entry, its IP's counter, the index sets) in one atomic step.
 */
export const DEFAULT_REDIS_KEY_PREFIX = 'pyp2p:{bs}:'

/**
 * BOOTSTRAP on Redis lists from a pool each instance samples from Redis (cluster/listing-cache.ts):
 * the oldest pool served while Redis answers (ms; refreshed in the background at half of it), so a node
 * cleared at another instance may be listed for this long more. 0 = ask Redis on every BOOTSTRAP.
 */
export const DEFAULT_REDIS_LISTING_REFRESH_MS = 1_000

/** Entries of each node type in that pool (one refresh reads up to twice this many). */
export const DEFAULT_REDIS_LISTING_SIZE = 256

/** Reconnect back-off after Redis went away: first delay, doubling up to the cap, ±50% jitter (ms). */
export const REDIS_BACKOFF_BASE_MS = 100
export const REDIS_BACKOFF_MAX_MS = 5_000

/**
 * Punch ids fetched from the CSPRNG at once (random-ids.ts): 256 × 8 bytes, one `randomBytes()` call per
 * 256 punches instead of one per punch (issue 12).
 */
export const RANDOM_ID_POOL_IDS = 256
