/**
 * The one error class of `@pyp2p/punch`. Every failure names the stage it happened in (`detection`,
 * `coordination`, `punch`) and a stable `code`; the underlying error is the `cause`.
 */

/** Where a punch failed. */
export type PunchStage = 'detection' | 'coordination' | 'punch'

export type PunchErrorCode =
  /** The rendezvous server could not be reached or closed the connection. */
  | 'ERR_SERVER_UNREACHABLE'
  /** The server answered something that is not the expected reply (or an unparsable line). */
  | 'ERR_PROTOCOL'
  /** The server answered `ERROR <CODE>` (the wire code is in `serverCode`). */
  | 'ERR_SERVER_ERROR'
  /** The NAT maps every connection to an unpredictable port: no punch can work (use a relay). */
  | 'ERR_NAT_UNPREDICTABLE'
  /** The target declined the punch (`REJECT`). */
  | 'ERR_PUNCH_REJECTED'
  /** The other side disconnected from the server before the punch started. */
  | 'ERR_PEER_GONE'
  /** A wait for the server (reply, `FIGHT`) took too long. */
  | 'ERR_TIMEOUT'
  /** The simultaneous open did not connect within its attempts or time. */
  | 'ERR_PUNCH_FAILED'
  /** The caller's signal fired. */
  | 'ERR_ABORTED'
  /** Bad arguments (node id, port, ...). */
  | 'ERR_INVALID_ARGUMENT'
  /** The server requires proof of node-id ownership and got none: pass `identity`. */
  | 'ERR_SIGNATURE_REQUIRED'

export class PunchError extends Error {
  override readonly name = 'PunchError'
  readonly code: PunchErrorCode
  readonly stage: PunchStage
  /** For `ERR_SERVER_ERROR` and punch verdicts: the server's wire code (`ERR_NO_SUCH_NODE`, ...). */
  readonly serverCode: string | undefined

  constructor(
    code: PunchErrorCode,
    stage: PunchStage,
    message: string,
    options: { cause?: unknown; serverCode?: string } = {},
  ) {
    super(`${stage}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.stage = stage
    this.serverCode = options.serverCode
  }

  static SERVER_UNREACHABLE(stage: PunchStage, where: string, cause?: unknown): PunchError {
    return new PunchError(
      'ERR_SERVER_UNREACHABLE',
      stage,
      `rendezvous server ${where} unreachable or closed the connection; check the address and that it runs`,
      { cause },
    )
  }

  static PROTOCOL(stage: PunchStage, what: string, cause?: unknown): PunchError {
    return new PunchError('ERR_PROTOCOL', stage, `unexpected reply from the rendezvous server: ${what}`, {
      cause,
    })
  }

  static SERVER_ERROR(stage: PunchStage, serverCode: string, text: string): PunchError {
    return new PunchError('ERR_SERVER_ERROR', stage, `server answered ${serverCode}: ${text}`, { serverCode })
  }

  static NAT_UNPREDICTABLE(samples: number): PunchError {
    return new PunchError(
      'ERR_NAT_UNPREDICTABLE',
      'detection',
      `this NAT gives a new unpredictable port per connection (${samples} samples); hole punching cannot work, use a relay`,
    )
  }

  static PUNCH_REJECTED(reason: string): PunchError {
    return new PunchError('ERR_PUNCH_REJECTED', 'coordination', `the target declined the punch: ${reason}`, {
      serverCode: 'ERR_PUNCH_REJECTED',
    })
  }

  static PEER_GONE(text: string): PunchError {
    return new PunchError(
      'ERR_PEER_GONE',
      'coordination',
      `the other side left the rendezvous server before the punch: ${text}`,
      { serverCode: 'ERR_PEER_GONE' },
    )
  }

  static TIMEOUT(stage: PunchStage, what: string, ms: number, serverCode?: string): PunchError {
    return new PunchError(
      'ERR_TIMEOUT',
      stage,
      `no ${what} within ${ms} ms`,
      serverCode === undefined ? {} : { serverCode },
    )
  }

  static PUNCH_FAILED(why: string, attempts: number, ms: number, cause?: unknown): PunchError {
    return new PunchError(
      'ERR_PUNCH_FAILED',
      'punch',
      `simultaneous open failed after ${attempts} attempts in ${Math.round(ms)} ms: ${why}`,
      { cause },
    )
  }

  static ABORTED(stage: PunchStage, reason?: unknown): PunchError {
    return new PunchError('ERR_ABORTED', stage, 'aborted by the caller', { cause: reason })
  }

  /** The server acts on node ids only with proof (`ERR_SIGNATURE_REQUIRED` on the wire). */
  static SIGNATURE_REQUIRED(stage: PunchStage, text: string): PunchError {
    return new PunchError(
      'ERR_SIGNATURE_REQUIRED',
      stage,
      `the rendezvous server requires proof that this node owns its id: pass identity (a NodeIdentity of @pyp2p/identity whose nodeId is this node's id) to the session, punch() or RendezvousClient (server: ${text})`,
      { serverCode: 'ERR_SIGNATURE_REQUIRED' },
    )
  }

  static INVALID_ARGUMENT(what: string): PunchError {
    return new PunchError('ERR_INVALID_ARGUMENT', 'coordination', `invalid argument: ${what}`)
  }
}

/** True for a {@link PunchError} (also across package copies, by name and shape). */
export function isPunchError(error: unknown): error is PunchError {
  return (
    error instanceof PunchError ||
    (error instanceof Error && error.name === 'PunchError' && 'stage' in error && 'code' in error)
  )
}
