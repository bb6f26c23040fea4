/** The error codes a server sends in `ERROR` lines (PROTOCOL.md, "Errors"). */

/** The codes a v1 server sends in `ERROR` lines. A client must accept other `ERR_*` codes too. */
export const WIRE_ERROR_CODES = [
  /** The first word is not a command. The connection stays open. */
  'ERR_UNKNOWN_COMMAND',
  /** A known command with bad arguments (a malformed proof included). The connection stays open. */
  'ERR_MALFORMED',
  /** The line was over the limit; the server closes the connection after this. */
  'ERR_LINE_TOO_LONG',
  /** Too many lines too fast; the server closes the connection after this. */
  'ERR_FLOOD',
  /**
   * The server, this IP or this network prefix has too many connections; closed after this. The text
   * names the limit: `ip=<ip> limit=<n> ...`, `prefix=<prefix> limit=<n> ...` or, when the server is
   * full and this prefix holds its fair share, `prefix=<prefix> share=<n> ...`.
   */
  'ERR_TOO_MANY_CONNECTIONS',
  /**
   * The server was full and this connection's network prefix held the most connections: it was closed
   * to admit a client from another prefix (`prefix=<prefix> ...`). Closed after this; retry later.
   */
  'ERR_EVICTED',
  /** The connection sent no complete line within the server's handshake timeout; closed after this. */
  'ERR_HANDSHAKE_TIMEOUT',
  /** Registering would exceed the nodes allowed per IP or in total. */
  'ERR_TOO_MANY_NODES',
  /** The target has too many pending candidates. */
  'ERR_TOO_MANY_CANDIDATES',
  /** `CANDIDATE` names a node that is not registered as simultaneous (or is the sender itself). */
  'ERR_NO_SUCH_NODE',
  /** `ACCEPT`/`REJECT` names a punch that does not exist (any more) or is not this connection's. */
  'ERR_NO_SUCH_PUNCH',
  /** The target sent `REJECT`. Carries `punch=<id>`. */
  'ERR_PUNCH_REJECTED',
  /** The target did not answer a `CHALLENGE` in time. Carries `punch=<id>`. */
  'ERR_PUNCH_TIMEOUT',
  /** The other side of a punch disconnected before `FIGHT`. Carries `punch=<id>`. */
  'ERR_PEER_GONE',
  /** The connection sent nothing for too long; closed after this. */
  'ERR_IDLE_TIMEOUT',
  /** The node's registration outlived the node lifetime; closed after this. */
  'ERR_NODE_EXPIRED',
  /** Another connection registered the same node id; this one is no longer registered. */
  'ERR_REPLACED',
  /** The server is shutting down; closed after this. */
  'ERR_SHUTTING_DOWN',
  /** Too many `CHECK`s from this IP lately, or running on the whole server; retry later. Stays open. */
  'ERR_RATE_LIMITED',
  /**
   * The command lists, replaces or clears a node id, or names one as a punch candidate, without a proof
   * (`SIG ...`) the server requires: sign it with the node's key. Nothing changed. Stays open.
   */
  'ERR_SIGNATURE_REQUIRED',
  /**
   * The proof does not hold: the public key does not hash to the node id, or the signature does not
   * verify over this connection's nonce, this server's id and this command. Nothing changed. Stays open.
   */
  'ERR_BAD_SIGNATURE',
  /** A bug in the server; the connection stays open. */
  'ERR_INTERNAL',
] as const

export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number]
