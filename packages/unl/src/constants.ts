/**
 * Every number the UNL package uses, with where it comes from.
 */

/**
 * Format version written in the first byte. The Python original wrote version 2 (fixed layout, standard
 * base64, IPv4 only); this is the first format of the TypeScript port, so it takes the next number.
 */
export const UNL_FORMAT_VERSION = 3

/** The original's version byte, recognised only to say why such a UNL is refused. */
export const UNL_PYTHON_FORMAT_VERSION = 2

/** Node ids are 20 bytes (the original's DHT ids; here the SHA-256 of an Ed25519 key, truncated). */
export const NODE_ID_BYTES = 20

/** Checksum: the first 4 bytes of SHA-256 over everything before it (the original used 4 bytes too). */
export const UNL_CHECKSUM_BYTES = 4

/** version + node id + node type + NAT type + forwarding type + port + two address lengths. */
export const UNL_FIXED_BYTES = 1 + NODE_ID_BYTES + 1 + 1 + 1 + 2 + 1 + 1

/** Smallest possible encoding: fixed part, no addresses, no extensions, checksum. */
export const UNL_MIN_BYTES = UNL_FIXED_BYTES + UNL_CHECKSUM_BYTES

/**
 * Largest encoding a reader accepts (bytes). Two IPv6 addresses and the known extensions need ~70;
 * the rest leaves room for extensions while bounding the work a hostile string can cause.
 */
export const UNL_MAX_BYTES = 512

/** Largest text a reader looks at: base64url of UNL_MAX_BYTES. */
export const UNL_MAX_TEXT_LENGTH = Math.ceil((UNL_MAX_BYTES * 4) / 3)

/**
 * Extension (TLV) types: one byte of type, one of length, then the value. Types 0x00-0x7f are optional
 * (readers skip the ones they do not know); 0x80-0xff are critical (a reader that does not know one
 * refuses the UNL, because ignoring it would change the meaning).
 */
export const TLV_CRITICAL_BIT = 0x80

/** Known extension: the port the WAN side maps to the listening port when it differs (UPnP/NAT-PMP). */
export const TLV_EXTERNAL_PORT = 0x01

/**
 * Known extension: a circuit relay where the node holds a reservation (@pyp2p/relay), so nodes that
 * reach it no other way ask that relay for a circuit: the relay's address (4 or 16 bytes), then its
 * port (2 bytes, big-endian). Optional (below 0x80): a reader that does not know it skips it.
 */
export const TLV_RELAY = 0x02

/**
 * Known extension: a global IPv6 address the node listens on (16 bytes), at its listening port: IPv6
 * has no NAT, at most a firewall that a pinhole opens (@pyp2p/nat `map({ family: 6 })`). Optional
 * (below 0x80): a reader that does not know it skips it and dials the WAN address as before.
 */
export const TLV_IPV6_ADDRESS = 0x03

/** How long `connect()` waits in total by default (the original waited 60 s for a connection). */
export const CONNECT_TIMEOUT_MS = 60_000

/** How long one direct or LAN dial may take (the original's 60 s TCP timeout, shortened per method). */
export const DIAL_TIMEOUT_MS = 15_000

/** How long the dialled side waits for the first (hello) line of an incoming connection. */
export const HELLO_TIMEOUT_MS = 10_000

/**
 * How long the secure handshake of one connection may take, ms (@pyp2p/secure's default): 1.5 round
 * trips, about a millisecond on loopback. It bounds how long an unauthenticated connection holds
 * anything of ours (a pending slot, a socket).
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000

/**
 * Relayed connections tag every line inside the secure stream (relay-lines.ts): `.` application data,
 * `!` a control line of the connection itself, so no application line can pass for one.
 */
export const RELAY_DATA_TAG = '.'
export const RELAY_CONTROL_TAG = '!'

/**
 * The one try to move a relayed connection to a direct or punched one, ms: a dial (DIAL_TIMEOUT_MS)
 * or a punch through the rendezvous server fits; past it the circuit stays.
 */
export const RELAY_UPGRADE_TIMEOUT_MS = 20_000
/** How much longer the other end waits for the dialler's upgrade connection than the dialler tries. */
export const UPGRADE_GRACE_MS = 5_000

/** Nonces are 32 random bytes written as 64 hex characters, like the original's 64-character nonce. */
export const NONCE_BYTES = 32

/** Reverse-connect requests a node acts on: this many per sender per window... */
export const REVERSE_PER_SENDER = 5
/** ...and this many in total per window, so a flood of requests can't make us dial the world. */
export const REVERSE_TOTAL = 50
/** The rate-limit window for reverse-connect requests. */
export const REVERSE_WINDOW_MS = 60_000

/** Nonces of requests already acted on are remembered this long (the relay's message lifetime). */
export const REVERSE_NONCE_MEMORY_MS = 120_000

/** How long the requester of a reverse connect waits for the peer to dial in. */
export const REVERSE_TIMEOUT_MS = 30_000

/**
 * A reverse-connect request the relay accepted is sent again (same nonce, so the peer acts once) when
 * the peer has not dialled in after this long: the relay keeps messages in memory only, so one it
 * accepted is lost if it restarts before delivering it (the original repeated the request until
 * answered too). Six sends at most in REVERSE_TIMEOUT_MS, well under the relay's per-pair queue of 10.
 */
export const REVERSE_RESEND_MS = 5_000

/** First word of a reverse-connect request sent through the relay (the original's `REVERSE_CONNECT`). */
export const REVERSE_CONNECT = 'REVERSE_CONNECT'

/**
 * First word of the answer to a reverse-connect request refused by a rate limit, sent back through the
 * relay (`REVERSE_REFUSED <nonce> <reason> <text>`), so the requester stops waiting (issue 16). Not in
 * the original, which stayed silent; a node of an older version ignores the message.
 */
export const REVERSE_REFUSED = 'REVERSE_REFUSED'

/** Refusals a node sends back to one sender per window (REVERSE_WINDOW_MS): a flood earns a few answers. */
export const REVERSE_REFUSALS_PER_SENDER = 5

/**
 * First line the dialling side sends on every connection `connect()` makes (the original sent the raw
 * 64-character nonce first): `PYP2P-CONNECT/1 <nonce> <dialer-node-id>`.
 */
export const CONNECT_HELLO = 'PYP2P-CONNECT/1'

/**
 * Punches peers may start towards us at once (`SIMULTANEOUS READY`'s max-inbound): one, as the original
 * queued hole punches one after another.
 */
export const PUNCH_MAX_INBOUND = 1

/** Connections punched to us kept for a connector that does not listen yet; more are closed. */
export const PUNCH_MAX_WAITING = 16

/**
 * A dropped rendezvous registration is made again after this long, doubling up to the maximum (the
 * backoff of @pyp2p/dht-msg's relay client, so a restarted server is not stormed by its nodes).
 */
export const REGISTER_RETRY_MIN_MS = 100
export const REGISTER_RETRY_MAX_MS = 10_000

/**
 * Punches a node takes part in as the target at once (the challenges it answers; issue 18): the
 * Net's default `maxInbound` of 10, since more punched connections at once than it accepts gain
 * nothing. More wait (PUNCH_MAX_PENDING).
 */
export const PUNCH_MAX_CONCURRENT = 10

/** Challenges waiting for a free punch slot; more are refused (`REJECT`) at once. */
export const PUNCH_MAX_PENDING = 20

/**
 * How long a challenge may wait for a slot, ms: half the server's 10 s challenge timeout
 * (@pyp2p/bootstrap-server), so an accepted one still meets its candidate.
 */
export const PUNCH_PENDING_MAX_WAIT_MS = 5_000

/**
 * Punches one requester may start with us in a burst, and then per minute: @pyp2p/punch runs up to 3
 * rounds (each a new challenge) per punch, so 4 punches' worth.
 */
export const PUNCH_PER_REQUESTER_BURST = 12
export const PUNCH_PER_REQUESTER_PER_MINUTE = 12

/** Requesters the per-requester limit remembers (least recently seen forgotten first). */
export const PUNCH_REQUESTERS_TRACKED = 1_024

/**
 * The acceptor's answer to a secure connection's hello (`PYP2P-CONNECT/1 ...`), one line inside the
 * encrypted stream: `OK` when the node took the connection into a slot, else `<CODE> <human text>`
 * with a code from `ADMISSION_REFUSALS`. The dialler's `connect()` resolves only after `OK`. Plain
 * connections have no answer line: the original's nodes never sent one.
 */
export const ADMISSION_OK = 'OK'

/**
 * After a refusal line, how long the refused connection may take to be closed gracefully (its
 * output flushed) before its socket is destroyed, ms: the line is a few dozen bytes, already in the
 * kernel's buffer; a peer that does not read must not hold a socket for framing's 5 s closeTimeout.
 */
export const REFUSAL_LINGER_MS = 1_000

/** The refusal codes an acceptor may answer a hello with (anything else is `ERR_INVALID_ADMISSION`). */
export const ADMISSION_REFUSALS = ['ERR_PEER_FULL', 'ERR_DUPLICATE', 'ERR_SELF', 'ERR_NOT_READY'] as const

/**
 * The keep-alive lines of secure connections (@pyp2p/framing's `heartbeat`): consumed by the
 * LineSocket, never delivered to the application.
 */
export const HEARTBEAT_PING = 'PYP2P-PING'
export const HEARTBEAT_PONG = 'PYP2P-PONG'

/**
 * A secure connection that received nothing for this long sends `PYP2P-PING`, ms. 15 s: under the
 * shortest idle timeouts of home NATs for established TCP flows seen in the lab (20 s), and one ping
 * per 15 s is nothing next to the traffic of a live connection.
 */
export const HEARTBEAT_INTERVAL_MS = 15_000

/**
 * After a ping, how long the peer has to send anything before the connection fails with
 * `ERR_KEEPALIVE_TIMEOUT` (and leaves the Net: `disconnect`), ms. 10 s: the handshake's 5 s
 * round-trip budget twice. A vanished peer is noticed within HEARTBEAT_INTERVAL_MS +
 * HEARTBEAT_TIMEOUT_MS (25 s) of the last bytes it sent.
 */
export const HEARTBEAT_TIMEOUT_MS = 10_000
