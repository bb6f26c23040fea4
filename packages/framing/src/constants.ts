/**
 * Every number the package uses, with where it comes from. `docs/original.md` describes the
 * original pyp2p `Sock` these defaults follow.
 */

/** Sent after every line: the original's delimiter (`Sock.send_line` appends `\r\n`). */
export const LINE_DELIMITER = '\r\n'

/** Byte that ends a received line; a `\r` right before it is dropped, so `\n` and `\r\n` both work. */
export const LF = 0x0a

/** `\r`, stripped when it directly precedes {@link LF}. */
export const CR = 0x0d

/**
 * Longest line accepted, in bytes, not counting the delimiter: the original's receive buffer limit
 * (`max_buf`, 1 MiB). Past it the connection ends with `ERR_LINE_TOO_LONG`.
 */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024

/**
 * Most unsent bytes held for a peer that does not read (CONTRACTS.md). Past it the connection ends
 * with `ERR_SEND_BUFFER_FULL`; `sendLine` reports backpressure (returns `false`) long before, at the
 * socket's write high-water mark (Node's default, 16 KiB).
 */
export const DEFAULT_MAX_SEND_BUFFER = 8 * 1024 * 1024

/**
 * Received lines queued for a reader before the socket is paused (TCP backpressure, no data lost).
 * The original read at most 1,024 chunks per poll for a similar reason: one peer must not swamp us.
 */
export const DEFAULT_MAX_QUEUED_LINES = 1024

/**
 * Total length (UTF-16 code units, = bytes for ASCII) of queued lines before the socket is paused:
 * four maximum-length lines, so a queue of long lines is bounded in memory as well as in count.
 */
export const DEFAULT_MAX_QUEUED_CHARS = 4 * DEFAULT_MAX_LINE_LENGTH

/** Idle time before the first TCP keep-alive probe: the original's Linux value (5 s). */
export const DEFAULT_KEEPALIVE_INITIAL_DELAY = 5_000

/** Connect timeout: the original `Sock`'s default timeout (5 s). */
export const DEFAULT_CONNECT_TIMEOUT = 5_000

/**
 * How long `close()` waits for queued output to reach a peer before destroying the socket, so a
 * never-reading peer cannot keep a closed connection alive. Same 5 s as the original's socket timeout.
 */
export const DEFAULT_CLOSE_TIMEOUT = 5_000
