/**
 * The one error class of @pyp2p/dht-msg, with a stable `code` per failure. Codes that the relay sends
 * back on the wire (`FAIL <id> <CODE> ...`) are the same codes the client rejects `send()` with.
 */

export type RelayErrorCode =
  | 'ERR_AUTH_FAILED'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_INVALID_MESSAGE'
  | 'ERR_INVALID_NODE_ID'
  | 'ERR_QUEUE_FULL'
  | 'ERR_RELAY_FULL'
  | 'ERR_RATE_LIMITED'
  | 'ERR_OUTGOING_QUEUE_FULL'
  | 'ERR_EXPIRED'
  | 'ERR_BAD_LINE'
  | 'ERR_PROTOCOL'
  | 'ERR_REPLACED'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_CONNECT_FAILED'

/** Codes a server may put in `FAIL`/`ERROR` lines; anything else is read as ERR_PROTOCOL. */
export const WIRE_CODES: ReadonlySet<string> = new Set<RelayErrorCode>([
  'ERR_AUTH_FAILED',
  'ERR_MESSAGE_TOO_LARGE',
  'ERR_INVALID_MESSAGE',
  'ERR_INVALID_NODE_ID',
  'ERR_QUEUE_FULL',
  'ERR_RELAY_FULL',
  'ERR_RATE_LIMITED',
  'ERR_BAD_LINE',
  'ERR_PROTOCOL',
  'ERR_REPLACED',
])

export class RelayError extends Error {
  override readonly name = 'RelayError'
  readonly code: RelayErrorCode
  /**
   * On the relay, the name of the limit that refused a request (`queue.per-prefix`, `rate.sender`...),
   * as counted in its stats; undefined otherwise. Not sent on the wire (the text names the prefix).
   */
  readonly limit: string | undefined

  constructor(code: RelayErrorCode, message: string, options?: { cause?: unknown; limit?: string }) {
    super(message, options)
    this.code = code
    this.limit = options?.limit
  }

  static AUTH_FAILED(detail: string): RelayError {
    return new RelayError('ERR_AUTH_FAILED', `Authentication failed: ${detail}`)
  }
  static MESSAGE_TOO_LARGE(size: number, limit: number): RelayError {
    return new RelayError(
      'ERR_MESSAGE_TOO_LARGE',
      `Message is ${size} bytes, over the ${limit}-byte limit: split it or send a reference instead`,
    )
  }
  static INVALID_MESSAGE(detail: string): RelayError {
    return new RelayError('ERR_INVALID_MESSAGE', `Invalid message: ${detail}`)
  }
  static INVALID_NODE_ID(value: string): RelayError {
    return new RelayError(
      'ERR_INVALID_NODE_ID',
      `Invalid node id ${JSON.stringify(value.slice(0, 60))}: expected 40 lowercase hex characters`,
    )
  }
  static QUEUE_FULL(nodeId: string, limit: number, what = 'messages', name = 'queue.per-node'): RelayError {
    return new RelayError(
      'ERR_QUEUE_FULL',
      `The queue for ${nodeId} is full (${limit} ${what}): try again after the node has read its messages`,
      { limit: name },
    )
  }
  static RELAY_FULL(detail: string, name = 'relay.full'): RelayError {
    return new RelayError('ERR_RELAY_FULL', `The relay is full (${detail}): try again later`, { limit: name })
  }
  static RATE_LIMITED(what: string, name = `rate.${what.replace(/ /g, '-')}`): RelayError {
    return new RelayError('ERR_RATE_LIMITED', `Too many requests from this ${what}: slow down`, {
      limit: name,
    })
  }
  static OUTGOING_QUEUE_FULL(limit: number): RelayError {
    return new RelayError(
      'ERR_OUTGOING_QUEUE_FULL',
      `${limit} messages are already waiting to be sent: wait for the relay connection`,
    )
  }
  static EXPIRED(ageMs: number): RelayError {
    return new RelayError('ERR_EXPIRED', `The message waited ${ageMs} ms for the relay and expired`)
  }
  static BAD_LINE(detail: string): RelayError {
    return new RelayError('ERR_BAD_LINE', `Malformed line: ${detail}`)
  }
  static PROTOCOL(detail: string, limit?: string): RelayError {
    return new RelayError(
      'ERR_PROTOCOL',
      `Relay protocol error: ${detail}`,
      limit === undefined ? undefined : { limit },
    )
  }
  static REPLACED(): RelayError {
    return new RelayError(
      'ERR_REPLACED',
      'Another connection authenticated as this node id replaced this one',
    )
  }
  static CLOSED(): RelayError {
    return new RelayError('ERR_CLOSED', 'The relay client is closed')
  }
  static ABORTED(cause?: unknown): RelayError {
    return new RelayError('ERR_ABORTED', 'The operation was aborted', { cause })
  }
  static CONNECT_FAILED(cause: unknown): RelayError {
    const why = cause instanceof Error ? cause.message : String(cause)
    return new RelayError('ERR_CONNECT_FAILED', `Could not connect to the relay: ${why}`, { cause })
  }

  /** The error a `FAIL`/`ERROR` line from the relay stands for. */
  static fromWire(code: string, text: string): RelayError {
    if (WIRE_CODES.has(code)) return new RelayError(code as RelayErrorCode, text || code)
    return RelayError.PROTOCOL(`unknown error code ${code}: ${text}`)
  }
}
