/**
 * Every number and fixed string of @pyp2p/identity, with where it comes from.
 */

/** Node ids: 20 bytes as 40 lowercase hex characters (the original's DHT ids, the UNL's and the relay's). */
export const NODE_ID_HEX_LENGTH = 40

/** An Ed25519 public key and private seed are 32 bytes (RFC 8032 section 5.1.5). */
export const ED25519_KEY_BYTES = 32

/** An Ed25519 signature is 64 bytes (RFC 8032 section 5.1.6). */
export const ED25519_SIGNATURE_BYTES = 64

/**
 * The context of the relay's AUTH signature (`@pyp2p/dht-msg`): kept byte for byte so relay logins made
 * with keys from this package stay valid. Its signed bytes are `<context>|<node-id>|<challenge>`.
 */
export const RELAY_AUTH_CONTEXT = 'pyp2p-relay-auth/1'

/**
 * First bytes of every message `sign(context, data)` signs. It can't begin a relay AUTH message
 * (those start with `pyp2p-relay-auth/1|`), so neither kind of signature passes as the other.
 */
export const SIGNATURE_DOMAIN = 'PYP2P-SIG/1\0'

/** Longest signing context, in bytes: it is length-prefixed with one byte. */
export const MAX_CONTEXT_LENGTH = 255

/** File mode of a key file this package creates: owner read/write only. */
export const KEY_FILE_MODE = 0o600

/** Permission bits that must be clear on a key file we load: nothing for group or others. */
export const KEY_FILE_FORBIDDEN_BITS = 0o077

/** The `type` field of a key file. */
export const KEY_FILE_TYPE = 'pyp2p-identity'

/** The `version` field of a key file. */
export const KEY_FILE_VERSION = 1

/** A key file is about 150 bytes; anything over this is not one (and is not read into memory). */
export const MAX_KEY_FILE_BYTES = 4096

/**
 * Public keys a `Verifier` keeps by default. A cached key saves its import and hash on a repeated check
 * (about 8 µs on Node 20 once keys are imported as JWK; 130 µs before, through the DER decoder) and costs
 * about 1.4 KB of RSS (measured, 20,000 keys): 1,024 keys are 1.4 MB, small next to a server's
 * connections, and cover the nodes that punch most often.
 */
export const DEFAULT_VERIFIER_MAX_KEYS = 1024
