/**
 * Every number of the relay, with where it comes from. Each limit has an option of the same meaning.
 */

/** Protocol name and version sent in the first line of a relay connection. */
export const RELAY_PROTOCOL = 'PYP2P-MSG/1'

/**
 * The first word of the first line a relay client sends: `RELAY PYP2P-MSG/1 <node-id>`. A server that
 * shares its listener (bootstrap-server) hands connections whose first line starts with it to the relay.
 */
export const RELAY_FIRST_WORD = 'RELAY'

/** Default port of a standalone relay (the bootstrap server's 8000 plus one; embedded it shares 8000). */
export const DEFAULT_RELAY_PORT = 8001

/** Node ids: 20 bytes as 40 lowercase hex characters (the original's DHT ids, the UNL's node id). */
export const NODE_ID_HEX_LENGTH = 40

/**
 * Largest message (UTF-8 bytes). The original capped messages at 2,000 characters without saying so;
 * a reverse-connect request (a UNL and a nonce) is under 200.
 */
export const MAX_MESSAGE_BYTES = 4096

/** Longest line on a relay connection: a base64url message plus the command and ids, with room. */
export const MAX_RELAY_LINE_LENGTH = 8192

/** Messages live this long on the relay; a reverse-connect request older than the 60 s wait is useless. */
export const MESSAGE_TTL_MS = 120_000

/** How often the relay drops expired messages and idle rate-limit entries. */
export const SWEEP_INTERVAL_MS = 5_000

/** Queued messages per recipient node. */
export const MAX_QUEUED_PER_NODE = 100

/** Queued messages from one sender to one recipient, so one sender cannot fill a node's queue. */
export const MAX_QUEUED_PER_PAIR = 10

/** Queued messages in total. */
export const MAX_QUEUED_TOTAL = 100_000

/** Queued payload bytes in total (about the memory the relay may use for messages). */
export const MAX_QUEUED_BYTES = 64 * 1024 * 1024

/** Sends per sender node id: a token bucket of this size, refilled at this rate per second. */
export const SENDER_BURST = 30
export const SENDER_RATE_PER_SECOND = 5

/** Sends per source IP address (several node ids behind one address share it). */
export const IP_BURST = 100
export const IP_RATE_PER_SECOND = 20

/** Authentication attempts per source IP address. */
export const AUTH_BURST = 20
export const AUTH_RATE_PER_SECOND = 2

/** Rate-limit entries kept at most; the least recently used go first. */
export const MAX_RATE_LIMIT_KEYS = 100_000

/** How long the relay waits for the first line and the AUTH line of a new connection. */
export const HANDSHAKE_TIMEOUT_MS = 10_000

/** Client: messages waiting to be sent (they survive reconnects). */
export const MAX_OUTGOING_QUEUE = 1000

/** Client: received messages waiting for a reader when no 'message' listener is attached. */
export const MAX_INBOX = 1000

/** Client: message ids remembered to drop duplicates of at-least-once delivery. */
export const SEEN_IDS = 4096

/** Client: reconnect backoff, doubling from the first to the last, with up to 20 % jitter. */
export const RECONNECT_MIN_MS = 100
export const RECONNECT_MAX_MS = 10_000

/** Client: how long to wait for the TCP connection and the handshake. */
export const CONNECT_TIMEOUT_MS = 10_000

/** Client: a PING is sent after this long without traffic; no reply within the same time drops it. */
export const KEEPALIVE_MS = 30_000

/** Signed by the client to prove it holds the key of its node id (domain separation). */
export const AUTH_CONTEXT = 'pyp2p-relay-auth/1'

/** Size of the server's per-connection challenge. */
export const CHALLENGE_BYTES = 32

/** Open relay connections at most (authenticated or still in the handshake). */
export const MAX_RELAY_CONNECTIONS = 10_000

/**
 * Queued messages from one sender node id, to all recipients together. Node ids cost nothing to make,
 * so this only stops one careless sender; the per-prefix limits below stop an attacker.
 */
export const MAX_QUEUED_PER_SENDER = 1_000

/**
 * One sender network prefix (IPv4 /24, IPv6 /48) may fill 1/PREFIX_NODE_SHARE of one recipient's queue:
 * filling an offline node's queue takes four networks, not four node ids.
 */
export const PREFIX_NODE_SHARE = 4
export const MAX_QUEUED_PER_PREFIX_PER_NODE = MAX_QUEUED_PER_NODE / PREFIX_NODE_SHARE

/**
 * One sender prefix may fill 1/PREFIX_SHARE of the relay (messages and bytes), so sixteen networks are
 * needed to fill it (libp2p circuit relay v2 likewise caps reservations per peer and per IP inside its
 * total).
 */
export const PREFIX_SHARE = 16
export const MAX_QUEUED_PER_PREFIX = MAX_QUEUED_TOTAL / PREFIX_SHARE
export const MAX_QUEUED_BYTES_PER_PREFIX = MAX_QUEUED_BYTES / PREFIX_SHARE

/** Sends per sender network prefix: four addresses' worth of the per-address limit. */
export const PREFIX_BURST = 4 * IP_BURST
export const PREFIX_RATE_PER_SECOND = 4 * IP_RATE_PER_SECOND

/** Authentication attempts per network prefix: four addresses' worth. */
export const AUTH_PREFIX_BURST = 4 * AUTH_BURST
export const AUTH_PREFIX_RATE_PER_SECOND = 4 * AUTH_RATE_PER_SECOND

/**
 * Open relay connections from one IP (an IPv6 /64) and from one network prefix (IPv4 /24, IPv6 /48):
 * @pyp2p/limits' defaults (a NAT of a few hundred nodes; four such addresses per prefix).
 */
export const MAX_RELAY_CONNECTIONS_PER_IP = 256
export const MAX_RELAY_CONNECTIONS_PER_PREFIX = 1_024
