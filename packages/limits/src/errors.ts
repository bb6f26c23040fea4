export type LimitsErrorCode = 'ERR_INVALID_LIMIT'

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
}
