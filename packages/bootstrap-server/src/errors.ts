/** The one error class of `@pyp2p/bootstrap-server`, with one static constructor per code. */

export type BootstrapServerErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_LISTEN_FAILED'
  | 'ERR_SERVER_CLOSED'
  | 'ERR_ABORTED'
  | 'ERR_INVALID_REDIS_URL'
  | 'ERR_REDIS_UNAVAILABLE'

export class BootstrapServerError extends Error {
  override readonly name = 'BootstrapServerError'
  readonly code: BootstrapServerErrorCode

  constructor(code: BootstrapServerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** An option (or CLI flag) has a value outside its range. */
  static INVALID_OPTION(name: string, value: unknown, rule: string): BootstrapServerError {
    return new BootstrapServerError(
      'ERR_INVALID_OPTION',
      `option ${name} must be ${rule}, got ${String(value)}`,
    )
  }

  /** `listen()` failed (address in use, permission denied, bad host). */
  static LISTEN_FAILED(host: string, port: number, cause: unknown): BootstrapServerError {
    const why = cause instanceof Error ? cause.message : String(cause)
    return new BootstrapServerError('ERR_LISTEN_FAILED', `cannot listen on ${host}:${port}: ${why}`, {
      cause,
    })
  }

  /** `listen()` after `close()`, or twice. */
  static SERVER_CLOSED(what: string): BootstrapServerError {
    return new BootstrapServerError(
      'ERR_SERVER_CLOSED',
      `cannot ${what}: the server is closed or already listening`,
    )
  }

  /** The `redis` option (`--redis`, `REDIS_URL`) is not a `redis://` or `rediss://` URL. `url` has no password. */
  static INVALID_REDIS_URL(url: string, why: string): BootstrapServerError {
    return new BootstrapServerError('ERR_INVALID_REDIS_URL', `invalid Redis URL ${url}: ${why}`)
  }

  /** Redis could not be reached at start (scale-out needs it once; later outages are served degraded). */
  static REDIS_UNAVAILABLE(url: string, cause: unknown): BootstrapServerError {
    const why = cause instanceof Error ? cause.message : String(cause)
    return new BootstrapServerError(
      'ERR_REDIS_UNAVAILABLE',
      `cannot reach Redis at ${url}: ${why.replace(/\s+/g, ' ')}; start it or fix --redis / REDIS_URL`,
      { cause },
    )
  }

  /** The caller's signal fired. */
  static ABORTED(reason: unknown): BootstrapServerError {
    return new BootstrapServerError('ERR_ABORTED', 'aborted', { cause: reason })
  }
}
