export type IdentityErrorCode =
  | 'ERR_INVALID_SECRET'
  | 'ERR_INVALID_PUBLIC_KEY'
  | 'ERR_INVALID_CONTEXT'
  | 'ERR_KEY_FILE_NOT_FOUND'
  | 'ERR_KEY_FILE_PERMISSIONS'
  | 'ERR_KEY_FILE_INVALID'
  | 'ERR_KEY_FILE_IO'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_OPTION'

/** Every error of @pyp2p/identity; `code` is stable, the message says what to do. */
export class IdentityError extends Error {
  readonly code: IdentityErrorCode

  constructor(code: IdentityErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'IdentityError'
    this.code = code
  }

  static INVALID_SECRET(why: string): IdentityError {
    return new IdentityError(
      'ERR_INVALID_SECRET',
      `invalid identity secret: ${why} (want a 32-byte Ed25519 seed, as 43 base64url characters or bytes)`,
    )
  }

  static INVALID_PUBLIC_KEY(why: string, cause?: unknown): IdentityError {
    return new IdentityError(
      'ERR_INVALID_PUBLIC_KEY',
      `invalid public key: ${why} (want a raw 32-byte Ed25519 key, as 43 base64url characters or bytes)`,
      { cause },
    )
  }

  static INVALID_OPTION(name: string, value: unknown, want: string): IdentityError {
    return new IdentityError('ERR_INVALID_OPTION', `invalid option ${name}: ${String(value)} (want ${want})`)
  }

  static INVALID_CONTEXT(why: string): IdentityError {
    return new IdentityError(
      'ERR_INVALID_CONTEXT',
      `invalid signing context: ${why} (want 1-255 bytes of printable ASCII naming the purpose, e.g. 'pyp2p-rendezvous-register/1')`,
    )
  }

  static KEY_FILE_NOT_FOUND(path: string, cause?: unknown): IdentityError {
    return new IdentityError(
      'ERR_KEY_FILE_NOT_FOUND',
      `no identity key file at ${path}: pass { create: true } to make one`,
      { cause },
    )
  }

  static KEY_FILE_PERMISSIONS(path: string, mode: number): IdentityError {
    const octal = (mode & 0o777).toString(8).padStart(3, '0')
    return new IdentityError(
      'ERR_KEY_FILE_PERMISSIONS',
      `identity key file ${path} has mode ${octal}: group or others can read it; run 'chmod 600 ${path}' (and consider the key leaked if others could read it)`,
    )
  }

  static KEY_FILE_INVALID(path: string, why: string, cause?: unknown): IdentityError {
    return new IdentityError('ERR_KEY_FILE_INVALID', `identity key file ${path} is invalid: ${why}`, {
      cause,
    })
  }

  static KEY_FILE_IO(path: string, cause: unknown): IdentityError {
    const detail = cause instanceof Error ? cause.message : String(cause)
    return new IdentityError('ERR_KEY_FILE_IO', `cannot read or write identity key file ${path}: ${detail}`, {
      cause,
    })
  }

  static ABORTED(reason?: unknown): IdentityError {
    return new IdentityError('ERR_ABORTED', 'identity key file operation aborted', { cause: reason })
  }
}
