/** Stable codes of {@link DoctorError}. */
export type DoctorErrorCode = 'ERR_INVALID_ARGUMENT' | 'ERR_TIMEOUT'

export class DoctorError extends Error {
  override readonly name = 'DoctorError'
  readonly code: DoctorErrorCode

  constructor(code: DoctorErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  static INVALID_ARGUMENT(message: string): DoctorError {
    return new DoctorError('ERR_INVALID_ARGUMENT', message)
  }

  static TIMEOUT(check: string, ms: number): DoctorError {
    return new DoctorError('ERR_TIMEOUT', `The ${check} check got no answer within ${ms} ms.`)
  }
}
