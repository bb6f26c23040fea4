/**
 * The one error class of this package. Parsers and formatters throw only this (never a bare `Error`, a
 * `TypeError` or a string), so a server can turn any parse failure into an `ERROR` reply by its `code`.
 */

export type RendezvousProtocolErrorCode =
  | 'ERR_UNKNOWN_COMMAND'
  | 'ERR_MALFORMED'
  | 'ERR_LINE_TOO_LONG'
  | 'ERR_INVALID_MESSAGE'

/** Longest excerpt of an offending line kept on an error (a hostile line may be megabytes long). */
const EXCERPT_LENGTH = 80

function excerpt(line: string): string {
  const cut = line.length > EXCERPT_LENGTH ? `${line.slice(0, EXCERPT_LENGTH)}...` : line
  return JSON.stringify(cut)
}

export class RendezvousProtocolError extends Error {
  override readonly name = 'RendezvousProtocolError'
  readonly code: RendezvousProtocolErrorCode
  /** The command word of the offending line, when it had a known one. */
  readonly command: string | undefined

  constructor(
    code: RendezvousProtocolErrorCode,
    message: string,
    options: { command?: string | undefined; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.command = options.command
  }

  /** The first word of the line is not a command of this protocol (in this direction). */
  static UNKNOWN_COMMAND(line: string): RendezvousProtocolError {
    const word = line.trim().split(/[ \t]+/, 1)[0] ?? ''
    return new RendezvousProtocolError(
      'ERR_UNKNOWN_COMMAND',
      `unknown command ${excerpt(word)}; see PROTOCOL.md of @pyp2p/rendezvous-protocol for the commands`,
    )
  }

  /** A known command with wrong arguments; `what` says which argument and why. */
  static MALFORMED(command: string, what: string, line: string): RendezvousProtocolError {
    return new RendezvousProtocolError(
      'ERR_MALFORMED',
      `malformed ${command}: ${what} (in ${excerpt(line)})`,
      {
        command,
      },
    )
  }

  /** The line is longer than the protocol allows in this direction. */
  static LINE_TOO_LONG(length: number, limit: number): RendezvousProtocolError {
    return new RendezvousProtocolError(
      'ERR_LINE_TOO_LONG',
      `line of ${length} characters is over the limit of ${limit}; no valid message is that long`,
    )
  }

  /** A message object handed to a `format*` function cannot be put on the wire as it is. */
  static INVALID_MESSAGE(type: string, what: string): RendezvousProtocolError {
    return new RendezvousProtocolError('ERR_INVALID_MESSAGE', `cannot format ${type}: ${what}`, {
      command: type,
    })
  }
}

/** True when `error` is a {@link RendezvousProtocolError} (also across package copies, by name and code). */
export function isRendezvousProtocolError(error: unknown): error is RendezvousProtocolError {
  return (
    error instanceof RendezvousProtocolError ||
    (error instanceof Error &&
      error.name === 'RendezvousProtocolError' &&
      typeof (error as { code?: unknown }).code === 'string')
  )
}
