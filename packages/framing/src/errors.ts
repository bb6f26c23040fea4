/** Stable error codes of `@pyp2p/framing`: match on `err.code`, never on the message. */
export type FramingErrorCode =
  | 'ERR_LINE_TOO_LONG'
  | 'ERR_SEND_BUFFER_FULL'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_CONNECT_FAILED'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_LINE'
  | 'ERR_READ_TIMEOUT'
  | 'ERR_KEEPALIVE_TIMEOUT'

/** The one error class of this package; build instances with the static constructors. */
export class FramingError extends Error {
  override readonly name = 'FramingError'
  readonly code: FramingErrorCode

  constructor(code: FramingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** A received (or to-be-sent) line is longer than `limit` bytes. */
  static LINE_TOO_LONG(limit: number): FramingError {
    return new FramingError(
      'ERR_LINE_TOO_LONG',
      `Line longer than maxLineLength (${limit} bytes) without a newline; raise maxLineLength if the peer is trusted`,
    )
  }

  /** The peer does not read and more than `limit` bytes are waiting to be sent. */
  static SEND_BUFFER_FULL(limit: number): FramingError {
    return new FramingError(
      'ERR_SEND_BUFFER_FULL',
      `More than maxSendBuffer (${limit} bytes) unsent: the peer is not reading; wait for drain() after sendLine() returns false`,
    )
  }

  static CONNECT_TIMEOUT(host: string, port: number, ms: number): FramingError {
    return new FramingError('ERR_CONNECT_TIMEOUT', `Connecting to ${host}:${port} timed out after ${ms} ms`)
  }

  static CONNECT_FAILED(host: string, port: number, cause: unknown): FramingError {
    const why = cause instanceof Error ? cause.message : String(cause)
    return new FramingError('ERR_CONNECT_FAILED', `Connecting to ${host}:${port} failed: ${why}`, { cause })
  }

  /** The connection is closed (or closing); `cause` is why, when known. */
  static CONNECTION_CLOSED(cause?: unknown): FramingError {
    const why = cause instanceof Error ? `: ${cause.message}` : ''
    return new FramingError(
      'ERR_CONNECTION_CLOSED',
      `Connection closed${why}`,
      cause === undefined ? undefined : { cause },
    )
  }

  /** The caller's `AbortSignal` fired; `reason` is the signal's reason. */
  static ABORTED(reason?: unknown): FramingError {
    return new FramingError(
      'ERR_ABORTED',
      'Operation aborted',
      reason === undefined ? undefined : { cause: reason },
    )
  }

  /** A line to send contains `\r` or `\n`, which would split it into several lines on the wire. */
  static INVALID_LINE(): FramingError {
    return new FramingError(
      'ERR_INVALID_LINE',
      'A line to send must not contain "\\r" or "\\n"; send each line with its own sendLine()',
    )
  }

  /** `readLine({ timeout })` saw no whole line in time. */
  static READ_TIMEOUT(ms: number): FramingError {
    return new FramingError('ERR_READ_TIMEOUT', `No line received within ${ms} ms`)
  }

  /** The peer sent nothing, not even an answer to a keep-alive ping (`heartbeat` option): it is gone. */
  static KEEPALIVE_TIMEOUT(interval: number, timeout: number): FramingError {
    return new FramingError(
      'ERR_KEEPALIVE_TIMEOUT',
      `The peer sent nothing for ${interval} ms and did not answer a keep-alive ping within ${timeout} ms: ` +
        'it crashed, its link was cut or a NAT forgot the connection; connect again',
    )
  }
}
