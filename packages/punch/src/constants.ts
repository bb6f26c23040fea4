/**
 * Every number of `@pyp2p/punch`, with where it comes from. Options that default to one of these name it.
 */

/**
 * Connections opened to the rendezvous server to classify the NAT. pyp2p: `nat_tests = 5`
 * (`docs/original.md`, "NAT detection").
 */
export const NAT_TESTS = 5

/** Samples that may disagree with a verdict and still count for it. pyp2p: `port_collisions = 1`. */
export const PORT_COLLISIONS = 1

/**
 * Reconnections from an already sampled local port for the `reuse` test. Two give the same 4-of-5 style
 * margin as pyp2p for a behaviour that is rarely partial, at two extra round trips.
 */
export const REUSE_TESTS = 2

/**
 * Waits between tries of a reuse test's reconnection, ms (about 1.7 s in all). The connection it
 * replaces stays in LAST_ACK for a round trip after the server closed it (its final ACK in flight), and
 * until then a connect() from the same port to the same server fails with EADDRNOTAVAIL: on any link
 * with latency, the first try right after the close does.
 */
export const REUSE_RECONNECT_WAITS_MS: readonly number[] = [5, 10, 20, 40, 80, 160, 320, 500, 500]

/**
 * Predicted ports sent for a `delta` NAT: the next mapping, and the ones after it in case another
 * connection took a port between the observation and the punch. pyp2p opened `mapping_no = 4` mappings.
 */
export const DELTA_PREDICTIONS = 3

/**
 * Connect attempts (SYNs sent by `connect()`) per predicted port in one punch: a bound, not a target.
 * Behind two routers that answer unsolicited SYNs with RST, the SYNs must cross within about one
 * router-to-router delay, which in the NAT lab (tens of microseconds) takes tens to thousands of
 * attempts at one attempt per ~0.5 ms (measured, README); {@link PUNCH_TIMEOUT_MS} is the real limit
 * there. Over real paths (RTT of milliseconds) one or two attempts do.
 */
export const MAX_PUNCH_ATTEMPTS = 10_000

/**
 * Time one round's simultaneous open may take, from firing to the connection, in ms. The server's
 * coordination keeps the two sides within milliseconds (measured skew p50 < 1 ms, p95 ~ 3 ms, stalls of
 * 50 ms), and a SYN nobody answers is re-sent every {@link SYN_RETRANSMIT_MS}, so drop routers need
 * far less. Behind two RST routers 45 of 49 lab punches met within 300 ms, the rest took 0.9-2.4 s or
 * never met within 5 s (heavy tail: a fresh round does better than waiting), hence 2 s per round and
 * {@link PUNCH_ROUNDS} rounds.
 */
export const PUNCH_TIMEOUT_MS = 2_000

/**
 * Pause between connect attempts after an RST/ECONNREFUSED, in ms. 0 retries as soon as the RST has
 * arrived (one SYN per round trip): behind two RST routers the SYNs only meet when they cross within
 * one one-way delay of each other, and retrying at once gives the most crossings per second (measured
 * in the lab: see README). A 10 ms gap (`docs/lab.md`) needed ~300 SYNs.
 */
export const RETRY_GAP_MS = 0

/**
 * Pause after the first refusal (RST) of a punch, in ms. An RST that early means our SYN reached the
 * peer's router before the peer's own SYN had left; the peer fires within the coordination skew (about
 * a millisecond in the lab with the precise wait, measured), so one pause of that order lets the second
 * SYN through instead of drawing more RSTs. Later refusals retry at once ({@link RETRY_GAP_MS}).
 */
export const FIRST_RETRY_GAP_MS = 3

/**
 * An attempt that is neither refused nor connected after this long gets a fresh SYN (in ms). Linux
 * retransmits a SYN only after 1 s (RFC 6298 initial RTO), but a SYN dropped as INVALID by a router whose
 * state the other side's earlier SYN or RST changed is never answered. A punch waits longer on long
 * paths ({@link STALL_PATH_RTTS}, fight.ts): a fixed 250 ms failed every punch over 150 ms
 * links (lab, 2026-12-06), and doubling it after each replacement did not help.
 */
export const SYN_RETRANSMIT_MS = 250

/**
 * An attempt lives at least this many times a bound on the path's round trip before it is replaced
 * (fight.ts: twice the side's own RTT to the server, measured as its punch connection opened, plus
 * twice its `FIGHT` delay, which grows with the peer's distance). On its own the fixed
 * {@link SYN_RETRANSMIT_MS} cut every punch over 150 ms links, and a near side punching a far one
 * (300 ms) failed while its own RTT alone set the wait (lab, 2026-12-06).
 */
export const STALL_PATH_RTTS = 1.5

/** A round lasts at least this many first-attempt lifetimes (when that is longer than {@link PUNCH_TIMEOUT_MS}). */
export const ROUND_ATTEMPTS = 4

/**
 * The last part of the server's `FIGHT` delay is waited by yielding to the event loop rather than by a
 * timer (1 ms resolution, often late by another ms under load), so both sides fire within tens of
 * microseconds of the moment the server chose, not within milliseconds.
 */
export const PRECISE_WAIT_MS = 3

/**
 * Punch rounds a candidate runs before it reports `ERR_PUNCH_FAILED` (each with fresh ports on both
 * sides). In the lab about 1 punch in 50-100 involving an RST router never met within a 5 s round
 * (observed once: all 10,000 SYNs of the early side reset in 1.7 s). Traced with `conntrack -E`: when
 * the peer's SYN reaches a resetting router microseconds before the SYN of the host behind it leaves,
 * that router's own entry for the port pair still exists and the outgoing SYN gets another external
 * port for the whole round (the firing order from `INBOUND` avoids it: README, "Benchmark"). A new round costs nothing when the first succeeds; three
 * rounds of {@link PUNCH_TIMEOUT_MS} bound a failing punch to about 6 s plus coordination.
 */
export const PUNCH_ROUNDS = 3

/** Pause after a local bind error (`EADDRINUSE`/`EADDRNOTAVAIL`) before retrying, in ms. */
export const BIND_RETRY_GAP_MS = 5

/** Connecting to the rendezvous server, in ms. pyp2p's socket timeout: 5 s. */
export const CONNECT_TIMEOUT_MS = 5_000

/** One request/reply exchange with the rendezvous server, in ms. pyp2p waited 10 s for `PREDICTION SET`. */
export const REPLY_TIMEOUT_MS = 10_000

/**
 * How long a candidate waits for `FIGHT` after `PREDICTION SET`, in ms: a little longer than the
 * server's challenge timeout (10 s by default, PROTOCOL.md "A punch") so it hears the server's verdict.
 */
export const FIGHT_TIMEOUT_MS = 12_000

/** Longest line accepted from a rendezvous server (`MAX_SERVER_LINE_LENGTH` of the protocol, 16 KiB). */
export const SERVER_LINE_LIMIT = 16 * 1024

/**
 * How long the inbound-policy probe ({@link detectInbound}) waits for the server's dial-back verdict, in
 * ms, before it concludes that the router drops unsolicited SYNs. A reset comes back within one round
 * trip from the server; 1 s is RFC 6298's initial retransmission timeout. The server itself gives up
 * after its dial-back timeout (bootstrap-server: 3 s) and answers `no answer within ...`.
 */
export const INBOUND_PROBE_TIMEOUT_MS = 1_000

/** Default `<max-inbound>` announced with `SIMULTANEOUS READY`/`PASSIVE READY`. pyp2p: `max_inbound = 10`. */
export const DEFAULT_MAX_INBOUND = 10

/**
 * A `PING` is sent on a {@link RendezvousSession}'s connection this often, in ms, so the server's idle
 * timeout (60 s by default in @pyp2p/bootstrap-server) never closes it while the node is registered.
 */
export const SESSION_KEEPALIVE_MS = 25_000

/**
 * A session holding a registration whose connection dropped connects and registers again after this
 * long, doubling up to {@link SESSION_RETRY_MAX_MS}, jittered by {@link SESSION_RETRY_JITTER} (so a
 * restarted server is not stormed by its nodes in lock-step), and back to this once registered.
 */
export const SESSION_RETRY_MIN_MS = 100
/**
 * Longest wait between two reconnect attempts, ms (jitter only shortens it). 4 s: a node is listed again
 * within 5 s of its server's return (issue 19's goal: this plus one connect and one `READY`); while
 * the server is down, 10,000 nodes then try about 2,500 connects a second, each refused at once.
 */
export const SESSION_RETRY_MAX_MS = 4_000
/** Random fraction taken off each reconnect delay: `d × (1 − 0.5 × random())`, in [d/2, d]. */
export const SESSION_RETRY_JITTER = 0.5
/** While registered on a fallback server, how often the preferred (first) one is tried again, ms. */
export const SESSION_PREFERRED_PROBE_MS = 10_000
/**
 * How long a server keeps a registration that is not repeated, ms, when its `HELLO` does not say
 * (`lifetime=`, PROTOCOL.md): bootstrap-server's `DEFAULT_NODE_LIFETIME_MS` (pyp2p's `node_lifetime =
 * 60 * 60 * 24`).
 */
export const SESSION_REGISTRATION_LIFETIME_MS = 24 * 60 * 60 * 1000
/** Longest delay a Node timer takes (2^31 − 1 ms, about 24.8 days); a longer one would fire at once. */
export const SESSION_MAX_TIMER_MS = 2 ** 31 - 1
/**
 * A registration is repeated after this fraction of its lifetime: pyp2p re-advertised every 12 h of a
 * 24 h lifetime, so a refresh lost once still lands before the entry expires.
 */
export const SESSION_REFRESH_FRACTION = 0.5

/** How long `leave()` waits for the server to confirm `CLEAR` and to close after `QUIT`, in ms. */
export const SESSION_LEAVE_TIMEOUT_MS = 2_000

/** Random bytes of a session's clear token (`CLEAR <node-id> <clear-token>`): 22 characters of base64url. */
export const CLEAR_TOKEN_BYTES = 16
