/**
 * Every number and fixed string of @pyp2p/secure, with where it comes from.
 */

/**
 * Version 1 of the prologue line (prologue.ts): the whole line each way, meaning ChaChaPoly without
 * negotiation. A dialler that accepts ChaChaPoly only sends it (to reach a node of an earlier build);
 * every listener still answers it.
 */
export const SECURE_PROLOGUE_LINE = 'PYP2P-SECURE/1'

/**
 * Version 2 of the prologue line: the dialler's is followed by the Noise ciphers it accepts, the
 * listener's by the one it chose (`PYP2P-SECURE/2 AESGCM ChaChaPoly`, `PYP2P-SECURE/2 AESGCM`).
 */
export const SECURE_PROLOGUE_V2 = 'PYP2P-SECURE/2'

/** What the version of the secure protocol is compared by: a prologue starting so but differing later. */
export const SECURE_PROLOGUE_PREFIX = 'PYP2P-SECURE/'

/**
 * The identity signature's context (see `@pyp2p/identity` `sign`): the node's Ed25519 key signs its
 * Noise static key, as libp2p-noise's identity key signs `noise-libp2p-static-key:` + static key.
 */
export const STATIC_KEY_CONTEXT = 'pyp2p-secure-static-key/1'

/**
 * Peers' handshake payloads a node remembers as verified (payload.ts `VerifiedPayloads`): a repeat
 * peer then costs no Ed25519 verification (about 100 µs here). 256 entries of about 450 bytes each
 * (the 128 bytes as a base64 key, the identity's two strings, the map entry) bound it near 120 KB
 * per node.
 */
export const VERIFIED_PAYLOADS_PER_NODE = 256

/** X25519 public keys are 32 bytes (RFC 7748 section 5). */
export const DH_LENGTH = 32

/** The tag is 16 bytes with either cipher (Poly1305: RFC 8439 section 2.8; GCM: Noise section 12.4). */
export const TAG_LENGTH = 16

/** Handshake payload: the Ed25519 identity public key (32) and its signature of the static key (64). */
export const PAYLOAD_LENGTH = 32 + 64

/** Every frame, in the handshake and after it, starts with its length as 2 bytes big-endian (Noise section 3). */
export const LENGTH_PREFIX = 2

/** A Noise message is at most 65,535 bytes (Noise section 3), so a frame can never be larger. */
export const MAX_FRAME_LENGTH = 65_535

/** Most plaintext in one transport frame: a frame less its tag. */
export const MAX_FRAME_PLAINTEXT = MAX_FRAME_LENGTH - TAG_LENGTH

/**
 * A transport frame with at most this much plaintext leaves as one buffer (length, ciphertext and tag
 * copied together: a small copy costs less than three writes); a larger one as three writes of the
 * cipher's own buffers, corked into one writev. 4 KiB: Node's Buffer pool serves smaller allocations.
 */
export const JOIN_FRAME_BELOW = 4_096

/** Message 1 (`-> e`): the ephemeral key and an empty payload. */
export const MESSAGE1_LENGTH = DH_LENGTH

/** Message 2 (`<- e, ee, s, es`): ephemeral key, encrypted static key, encrypted payload. */
export const MESSAGE2_LENGTH = DH_LENGTH + DH_LENGTH + TAG_LENGTH + PAYLOAD_LENGTH + TAG_LENGTH

/** Message 3 (`-> s, se`): encrypted static key and encrypted payload. */
export const MESSAGE3_LENGTH = DH_LENGTH + TAG_LENGTH + PAYLOAD_LENGTH + TAG_LENGTH

/**
 * Default handshake timeout. A loopback handshake takes about a millisecond and needs 1.5 round trips;
 * 5 s leaves room for a slow path (hundreds of ms of RTT, a loaded machine) and bounds how long an
 * unauthenticated connection holds a slot.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT = 5_000

/**
 * How long a listener that failed before its message 2 (a plain-line dialler, garbage) waits for its
 * prologue to be written before it destroys the socket anyway: the write normally completes at once.
 */
export const FAILED_PROLOGUE_LINGER = 1_000

/** Noise nonces are 64-bit; we stop far earlier, at the largest exact JS integer (never reached in practice). */
export const MAX_NONCE = Number.MAX_SAFE_INTEGER
