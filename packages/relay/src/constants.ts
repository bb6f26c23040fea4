/**
 * Every number of the circuit relay, with where it comes from. libp2p's circuit relay v2 is the model
 * (https://github.com/libp2p/specs/blob/master/relay/circuit-v2.md); its defaults are sized for a relay
 * that carries only a DCUtR hole-punch exchange (2 min, 128 KiB). Here the relay is the last method
 * of `connect()` and carries the application's line stream for pairs that have no other way (two
 * symmetric NATs), so the per-circuit limits are sized for a line-messaging session instead.
 */

/** Protocol word in `HELLO` lines and the version every line speaks. */
export const CIRCUIT_PROTOCOL = 'PYP2P-CIRCUIT/1'
/** The first word of every client line (the one command word a host server routes to us). */
export const CIRCUIT_WORD = 'CIRCUIT'
/** Domain-separation context of a reservation's signature (@pyp2p/identity `sign`). */
export const RESERVE_CONTEXT = 'pyp2p-circuit-reserve/1'

/**
 * Bytes per direction one circuit may carry. 8 MiB: a chat-like session of 100-byte lines at one a
 * second carries 360 KB an hour, so this is a day of it per direction, and bursts of 4 KiB lines still
 * fit 2,000; it caps one circuit's cost to the relay's operator at 16 MiB (libp2p: 128 KiB, DCUtR only).
 */
export const MAX_CIRCUIT_BYTES = 8 * 1024 * 1024
/**
 * How long one circuit may live, ms. 30 min: long enough that a relayed session rarely notices (the
 * application reconnects on `ERR_CIRCUIT_LIMIT duration`), short enough that a relay's circuits turn
 * over and a node that later becomes reachable is reached directly (libp2p: 2 min, DCUtR only).
 */
export const MAX_CIRCUIT_DURATION_MS = 30 * 60_000
/**
 * Bytes the relay holds for one direction of one circuit before it stops reading the sender (the
 * destination socket's write buffer). 64 KiB: four socket reads' worth; with 1,000 circuits, 128 MB
 * at worst, and a reader that never reads costs no more than this.
 */
export const MAX_CIRCUIT_BUFFER = 64 * 1024
/** Reservations one relay holds in all (one held TCP connection each). */
export const MAX_RESERVATIONS = 4096
/** Reservations from one IP address: a household or office NAT shares one address. */
export const MAX_RESERVATIONS_PER_IP = 16
/** Circuits open at once through one relay. */
export const MAX_CIRCUITS = 1024
/** Circuits open at once to one reserved node (the target). */
export const MAX_CIRCUITS_PER_TARGET = 16
/**
 * Circuits open at once from one dialler IP (the dialler's node id is not authenticated by the relay:
 * the end-to-end handshake proves it to the target, so the relay counts what it can see).
 */
export const MAX_CIRCUITS_PER_IP = 16
/** The target must open its `ACCEPT` connection within this, ms, or the dialler gets ERR_ACCEPT_TIMEOUT. */
export const ACCEPT_TIMEOUT_MS = 10_000
/** The first line of a connection, and the reservation's `PROVE`, must arrive within this, ms. */
export const HANDSHAKE_TIMEOUT_MS = 10_000
/** A reservation that sent no line for this long is dropped, ms (3 missed keep-alives). */
export const RESERVATION_IDLE_MS = 90_000
/** A reservation's client pings this often, ms. */
export const RESERVATION_KEEPALIVE_MS = 30_000
/** How often the server checks deadlines (circuit durations, accept and handshake timeouts), ms. */
export const SWEEP_INTERVAL_MS = 1_000
/** A reserving client reconnects after a drop: first delay, ms (doubling, +0-20 % jitter). */
export const RECONNECT_MIN_MS = 200
/** … up to this, ms. */
export const RECONNECT_MAX_MS = 10_000
/** A client's dial to the relay plus its answer, ms. */
export const DIAL_TIMEOUT_MS = 10_000
/** Longest control line either side accepts. */
export const MAX_CONTROL_LINE = 1024
/** Random bytes of a server challenge (base64url). */
export const CHALLENGE_BYTES = 32
/** Random bytes of a circuit id (hex). */
export const CIRCUIT_ID_BYTES = 12

/**
 * How much earlier than the relay an end may see its circuit start (it counts from the `OK` it read, a
 * round trip after the relay started the clock), when it judges whether the duration limit ended it.
 */
export const CIRCUIT_END_SLACK_MS = 1_000
