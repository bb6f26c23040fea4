import type { FramingError } from './errors.js'

/** Why a connection closed: `close()` was called, the peer closed, a socket error, or a limit was hit. */
export type CloseReason = 'local' | 'peer' | 'error' | 'limit'

export interface CloseInfo {
  reason: CloseReason
  /** For `error` the socket's error; for `limit` a `FramingError` (`ERR_LINE_TOO_LONG`, ...). */
  error?: FramingError | Error
}
