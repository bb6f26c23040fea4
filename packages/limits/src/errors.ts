export type LimitsErrorCode = 'ERR_INVALID_LIMIT' | 'ERR_INVALID_ADDRESS'

export class LimitsError extends Error {
  readonly code: LimitsErrorCode

  constructor(code: LimitsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'LimitsError'
    this.code = code
  }

  static INVALID_LIMIT(scope: string, field: string, value: unknown, want: string): LimitsError {
    return new LimitsError('ERR_INVALID_LIMIT', `${scope}: ${field} must be ${want}, got ${String(value)}`)
  }

  /** Not an IPv4 or IPv6 address in a form Node's `net.isIP` accepts. */
  static INVALID_ADDRESS(value: unknown): LimitsError {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 64)) : String(value)
    return new LimitsError(
      'ERR_INVALID_ADDRESS',
      `${shown} is not an IP address: pass the peer's address as the socket reports it`,
    )
  }
}
