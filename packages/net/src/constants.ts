/**
 * Every number `@pyp2p/net` uses, with where it comes from. Options that default to one of these name it.
 */

/** The original's `passive_port=50500`. */
export const DEFAULT_PASSIVE_PORT = 50_500

/** The original's `passive_bind="0.0.0.0"`: listen on every IPv4 interface. */
export const DEFAULT_PASSIVE_BIND = '0.0.0.0'

/** The original's `max_outbound=10`. */
export const DEFAULT_MAX_OUTBOUND = 10

/** The original's `max_inbound=10`. */
export const DEFAULT_MAX_INBOUND = 10

/** The rendezvous protocol's default server port (`DEFAULT_PORT` of @pyp2p/rendezvous-protocol). */
export const DEFAULT_SERVER_PORT = 8000

/** Connecting to one bootstrap server and reading its HELLO, ms (the original's 5 s socket timeout). */
export const SERVER_CONNECT_TIMEOUT_MS = 5_000

/** One request/reply with the bootstrap server, ms (@pyp2p/punch's `REPLY_TIMEOUT_MS`). */
export const SERVER_REPLY_TIMEOUT_MS = 10_000

/**
 * A PING is sent on the rendezvous connection this often, ms, so the server's idle timeout (60 s by
 * default in @pyp2p/bootstrap-server) never closes it: `stop()` needs it to send `CLEAR`.
 */
export const RENDEZVOUS_KEEPALIVE_MS = 25_000

/** One outbound dial to a node from `BOOTSTRAP`, ms (@pyp2p/unl's `DIAL_TIMEOUT_MS`). */
export const DIAL_TIMEOUT_MS = 15_000

/** Time an inbound connection has to send its first (hello) line, ms (@pyp2p/unl's `HELLO_TIMEOUT_MS`). */
export const HELLO_TIMEOUT_MS = 10_000

/** Port-mapping discovery bound, ms (@pyp2p/nat's discovery default is 2 s). */
export const FORWARDING_TIMEOUT_MS = 3_000

/** Lease asked of the router, s: the original's NAT-PMP lifetime of 3600 s (renewed by @pyp2p/nat). */
export const FORWARDING_TTL_S = 3_600

/** How long `stop()` waits for the bootstrap server to confirm `CLEAR` and close, ms. */
export const STOP_SERVER_TIMEOUT_MS = 2_000

/** Node ids are 20 bytes (40 hex characters), like the original's DHT ids and @pyp2p/unl's. */
export const NODE_ID_BYTES = 20

/** Description shown in the router's mapping table (UPnP). */
export const FORWARDING_DESCRIPTION = 'pyp2p net'

/**
 * Bound on one dial-back check (`ServerDialBackProbe`), ms: connect to the server, ask, and get the
 * answer. The server's own dial-back gives up after 3 s (@pyp2p/bootstrap-server), so 10 s is ample.
 */
export const DIAL_BACK_PROBE_TIMEOUT_MS = 10_000

/**
 * After the server said it connected back, how long to wait for its nonce to show up on our listener,
 * ms. The server sends the line before it answers, so it is normally there already.
 */
export const DIAL_BACK_ARRIVAL_MS = 5_000

/** Random bytes of a dial-back nonce (22 characters of base64url). */
export const DIAL_BACK_NONCE_BYTES = 16

/** Random bytes of our clear token for the bootstrap server (`CLEAR <node-id> <clear-token>`). */
export const CLEAR_TOKEN_BYTES = 16

/** `bootstrap()` asks the server for this many nodes beyond those it wants (some may be skipped). */
export const BOOTSTRAP_ASK_EXTRA = 2

/**
 * One connection to a simultaneous node `bootstrap()` found, ms: a punch (NAT known from `start()`,
 * the server's 10 s challenge timeout, @pyp2p/punch's rounds) or, behind our own router, a reverse
 * connect through the relay; half of @pyp2p/unl's 60 s `CONNECT_TIMEOUT_MS`, so one bootstrap() ends.
 */
export const BOOTSTRAP_PUNCH_TIMEOUT_MS = 30_000

/**
 * The secure handshake of one connection, ms (@pyp2p/unl's `HANDSHAKE_TIMEOUT_MS`, @pyp2p/secure's
 * default): an unauthenticated connection holds a pending slot no longer than this.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000

/**
 * Accepted connections in their handshake at once (apart from `maxInbound`): a handshake takes about
 * a millisecond on loopback and 1.5 round trips elsewhere, so a handful covers honest peers arriving
 * together, while a flood of silent sockets holds at most this many for `HANDSHAKE_TIMEOUT_MS`.
 */
export const MAX_PENDING_HANDSHAKES = 8

/**
 * An inbound connection that sent nothing (no line, no keep-alive answer) for this long may be evicted
 * when the inbound slots are full and a newcomer needs one, ms. A live secure peer is never silent
 * this long: after HEARTBEAT_INTERVAL_MS (15 s) of silence we ping it and it answers within a round
 * trip, so 20 s leaves 5 s for that round trip. Plain peers (the original's) do not ping: a quiet one
 * can be evicted, but only when a slot is needed, and from the most-represented network first.
 */
export const INBOUND_IDLE_EVICT_MS = 20_000

/** Secure connections ping after this long without receiving anything, ms (@pyp2p/unl's `HEARTBEAT_INTERVAL_MS`). */
export const HEARTBEAT_INTERVAL_MS = 15_000

/**
 * After a ping, how long a peer has to send anything before its connection fails with
 * `ERR_KEEPALIVE_TIMEOUT` and leaves the Net (`disconnect`), ms (@pyp2p/unl's `HEARTBEAT_TIMEOUT_MS`).
 * A vanished peer's `disconnect` comes within HEARTBEAT_INTERVAL_MS + HEARTBEAT_TIMEOUT_MS (25 s).
 */
export const HEARTBEAT_TIMEOUT_MS = 10_000

/**
 * Lines `broadcast()` remembers (their SHA-256) to send each at most once: the original's duplicate
 * filter. Bounded: about 1 MB at 100 bytes a line; a repeat older than the last 10,000 distinct lines
 * goes out again (it can no longer be circling: each hop sends it once).
 */
export const BROADCAST_MEMORY = 10_000

/**
 * Failed reconnects of a relay reservation (after a drop; with @pyp2p/relay's back-off about 1.4 s in
 * all) after which a node with other relays in `circuitRelay.reserveAt` reserves at one of them: a
 * relay that restarts within that keeps its reservations, and the node its UNL.
 */
export const RESERVATION_MOVE_AFTER_FAILURES = 3
