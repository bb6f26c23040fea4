export type SecureErrorCode =
  | 'ERR_PLAINTEXT_PEER'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_NO_COMMON_CIPHER'
  | 'ERR_HANDSHAKE_MALFORMED'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_HANDSHAKE_FAILED'
  | 'ERR_PEER_ID_MISMATCH'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_HANDSHAKE_CLOSED'
  | 'ERR_DECRYPT_FAILED'
  | 'ERR_TRUNCATED_FRAME'
  | 'ERR_NONCE_EXHAUSTED'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_OPTION'

/** Every error of @pyp2p/secure; `code` is stable, the message says what happened and what to do. */
export class SecureError extends Error {
  readonly code: SecureErrorCode

  constructor(code: SecureErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SecureError'
    this.code = code
  }

  static PLAINTEXT_PEER(firstBytes: string): SecureError {
    return new SecureError(
      'ERR_PLAINTEXT_PEER',
      `the peer speaks plain lines (it sent ${JSON.stringify(firstBytes)}), not the secure protocol: both ends must use the same 'secure' setting`,
    )
  }

  static UNSUPPORTED_VERSION(line: string): SecureError {
    return new SecureError(
      'ERR_UNSUPPORTED_VERSION',
      `the peer speaks another version of the secure protocol (${JSON.stringify(line)}); this node speaks PYP2P-SECURE/1 and /2 (a node of an earlier build answers PYP2P-SECURE/1 only: dial it with ciphers ['ChaChaPoly'])`,
    )
  }

  static NO_COMMON_CIPHER(offered: readonly string[], mine?: readonly string[]): SecureError {
    const ours = mine === undefined ? '' : `; this node accepts ${mine.join(', ')}`
    return new SecureError(
      'ERR_NO_COMMON_CIPHER',
      `no cipher both ends accept (offered: ${offered.join(', ') || 'none'}${ours}): widen the 'ciphers' option on one end`,
    )
  }

  static HANDSHAKE_MALFORMED(why: string): SecureError {
    return new SecureError('ERR_HANDSHAKE_MALFORMED', `malformed secure handshake from the peer: ${why}`)
  }

  static FRAME_TOO_LARGE(length: number, limit: number): SecureError {
    return new SecureError(
      'ERR_FRAME_TOO_LARGE',
      `the peer announced a ${length}-byte handshake message where at most ${limit} bytes belong`,
    )
  }

  static HANDSHAKE_FAILED(why: string, cause?: unknown): SecureError {
    return new SecureError('ERR_HANDSHAKE_FAILED', `secure handshake failed: ${why}`, { cause })
  }

  static PEER_ID_MISMATCH(expected: string, actual: string): SecureError {
    return new SecureError(
      'ERR_PEER_ID_MISMATCH',
      `the peer proved node id ${actual}, not the expected ${expected}: the address reached another node (or an impostor)`,
    )
  }

  static HANDSHAKE_TIMEOUT(ms: number): SecureError {
    return new SecureError('ERR_HANDSHAKE_TIMEOUT', `the secure handshake did not finish within ${ms} ms`)
  }

  static HANDSHAKE_CLOSED(cause?: unknown): SecureError {
    return new SecureError(
      'ERR_HANDSHAKE_CLOSED',
      'the connection closed during the secure handshake (a plain-line peer closes on the secure prologue)',
      { cause },
    )
  }

  static DECRYPT_FAILED(cause?: unknown): SecureError {
    return new SecureError(
      'ERR_DECRYPT_FAILED',
      'a frame from the peer failed its integrity check: the data was altered, replayed or is not ours',
      { cause },
    )
  }

  static TRUNCATED_FRAME(pending: number): SecureError {
    return new SecureError(
      'ERR_TRUNCATED_FRAME',
      `the peer closed in the middle of a frame (${pending} bytes left over)`,
    )
  }

  static NONCE_EXHAUSTED(): SecureError {
    return new SecureError('ERR_NONCE_EXHAUSTED', 'this session sent or received its last frame: reconnect')
  }

  static ABORTED(reason?: unknown): SecureError {
    return new SecureError('ERR_ABORTED', 'the secure handshake was aborted', { cause: reason })
  }

  static INVALID_OPTION(name: string, want: string, value: unknown): SecureError {
    return new SecureError('ERR_INVALID_OPTION', `option ${name} must be ${want}, got ${String(value)}`)
  }
}
