/** `TestnetError`: one class with a stable `code`, one static constructor per code. */

export type TestnetErrorCode = 'ERR_INVALID_OPTION'

export class TestnetError extends Error {
  readonly code: TestnetErrorCode

  constructor(code: TestnetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'TestnetError'
    this.code = code
  }

  static INVALID_OPTION(name: string, value: unknown, expected: string): TestnetError {
    return new TestnetError(
      'ERR_INVALID_OPTION',
      `option ${name} must be ${expected}, got ${JSON.stringify(value)}`,
    )
  }
}
