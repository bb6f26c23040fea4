/**
 * The one error class of @pyp2p/unl. Every error has a stable `code`; `UnlError.INVALID_UNL` also says
 * which field was wrong.
 */

/** What one connection method did during `connect()`. */
export interface AttemptReport {
  method: ConnectMethod
  ok: boolean
  durationMs: number
  /** Why the method failed or was skipped. */
  error?: Error
  skipped?: boolean
}

export type ConnectMethod = 'lan' | 'direct' | 'reverse' | 'punch' | 'relay'

export type UnlErrorCode =
  | 'ERR_INVALID_UNL'
  | 'ERR_CONNECT_SELF'
  | 'ERR_CONNECT_FAILED'
  | 'ERR_NO_METHOD'
  | 'ERR_ABORTED'
  | 'ERR_CONNECT_TIMEOUT'
  | 'ERR_INVALID_REVERSE_REQUEST'
  | 'ERR_CLOSED'
  | 'ERR_INVALID_HELLO'
  | 'ERR_RELAY_UNAVAILABLE'
  | 'ERR_REVERSE_TIMEOUT'
  | 'ERR_PUNCH_LIMITED'
  | 'ERR_IDENTITY_REQUIRED'
  | 'ERR_IDENTITY_MISMATCH'
  | 'ERR_HELLO_ID_MISMATCH'
  | 'ERR_SECURE_PEER'
  | 'ERR_SOCKET_IN_USE'
  | 'ERR_PEER_FULL'
  | 'ERR_PEER_REFUSED'
  | 'ERR_INVALID_ADMISSION'
  | 'ERR_NOT_ADMITTED'
  | 'ERR_INVALID_OPTION'
  | 'ERR_REVERSE_REFUSED'
  | 'ERR_INVALID_RELAY_LINE'
  | 'ERR_CIRCUIT_ENDED'
  | 'ERR_UPGRADE_BROKEN'
  | 'ERR_UPGRADE_FAILED'

export class UnlError extends Error {
  override readonly name = 'UnlError'
  readonly code: UnlErrorCode
  /** For ERR_INVALID_UNL: the field that was wrong. */
  readonly field?: string
  /** For ERR_CONNECT_FAILED / ERR_NO_METHOD / ERR_CONNECT_TIMEOUT: every method tried and its outcome. */
  readonly attempts?: AttemptReport[]
  /** For ERR_PUNCH_LIMITED: which limit (`concurrent`, `pending`, `per-requester`). */
  readonly limit?: string
  /** For ERR_PEER_FULL / ERR_PEER_REFUSED / ERR_NOT_ADMITTED: the refusal code on the wire (`ERR_DUPLICATE`...). */
  readonly refusal?: string

  constructor(
    code: UnlErrorCode,
    message: string,
    extra: {
      cause?: unknown
      field?: string
      attempts?: AttemptReport[]
      limit?: string
      refusal?: string
    } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.code = code
    if (extra.field !== undefined) this.field = extra.field
    if (extra.attempts !== undefined) this.attempts = extra.attempts
    if (extra.limit !== undefined) this.limit = extra.limit
    if (extra.refusal !== undefined) this.refusal = extra.refusal
  }

  static INVALID_UNL(field: string, detail: string, cause?: unknown): UnlError {
    return new UnlError('ERR_INVALID_UNL', `Invalid UNL: ${field}: ${detail}`, { field, cause })
  }

  static CONNECT_SELF(): UnlError {
    return new UnlError('ERR_CONNECT_SELF', 'Refusing to connect: the UNL describes this node itself')
  }

  static NO_METHOD(attempts: AttemptReport[]): UnlError {
    return new UnlError(
      'ERR_NO_METHOD',
      `No connection method applies to this peer (${describeAttempts(attempts)})`,
      { attempts },
    )
  }

  static CONNECT_FAILED(attempts: AttemptReport[]): UnlError {
    return new UnlError('ERR_CONNECT_FAILED', `Could not connect: ${describeAttempts(attempts)}`, {
      attempts,
    })
  }

  static CONNECT_TIMEOUT(timeoutMs: number, attempts: AttemptReport[]): UnlError {
    return new UnlError(
      'ERR_CONNECT_TIMEOUT',
      `Could not connect within ${timeoutMs} ms: ${describeAttempts(attempts)}`,
      { attempts },
    )
  }

  static ABORTED(cause?: unknown): UnlError {
    return new UnlError('ERR_ABORTED', 'The operation was aborted', { cause })
  }

  static INVALID_REVERSE_REQUEST(detail: string, cause?: unknown): UnlError {
    return new UnlError('ERR_INVALID_REVERSE_REQUEST', `Reverse-connect request refused: ${detail}`, {
      cause,
    })
  }

  /**
   * A reverse-connect request past a rate limit (`sender`: REVERSE_PER_SENDER, `total`: REVERSE_TOTAL);
   * `refusal` is `rate-limited`, the reason the requester is told (`REVERSE_REFUSED`).
   */
  static REVERSE_RATE_LIMITED(scope: 'sender' | 'total'): UnlError {
    const detail = scope === 'sender' ? 'too many requests from this sender' : 'too many requests'
    return new UnlError(
      'ERR_INVALID_REVERSE_REQUEST',
      `Reverse-connect request refused: ${detail}: rate limited`,
      {
        refusal: 'rate-limited',
      },
    )
  }

  static INVALID_HELLO(detail: string, cause?: unknown): UnlError {
    return new UnlError('ERR_INVALID_HELLO', `Incoming connection refused: ${detail}`, { cause })
  }

  /** A reverse connect whose request the relay never accepted (relay down, restarting, unreachable). */
  static RELAY_UNAVAILABLE(nodeId: string, timeoutMs: number, cause?: unknown): UnlError {
    return new UnlError(
      'ERR_RELAY_UNAVAILABLE',
      `The relay did not accept the reverse-connect request for ${nodeId} within ${timeoutMs} ms: ` +
        'it is down or unreachable (check the relay, or connect another way)',
      { cause },
    )
  }

  /** A reverse connect the relay accepted (`sends` times) but the peer never answered by dialling in. */
  static REVERSE_TIMEOUT(nodeId: string, timeoutMs: number, sends: number): UnlError {
    return new UnlError(
      'ERR_REVERSE_TIMEOUT',
      `${nodeId} did not connect back within ${timeoutMs} ms (the relay accepted the request ${sends} ` +
        `time${sends === 1 ? '' : 's'}): it is offline, ignored the request, or cannot reach our address`,
    )
  }

  /** Secure connections (the default) need this node's key. */
  static IDENTITY_REQUIRED(): UnlError {
    return new UnlError(
      'ERR_IDENTITY_REQUIRED',
      'Secure connections need an identity: pass `identity` (a NodeIdentity from @pyp2p/identity whose ' +
        "node id is the UNL's), or `secure: false` for plain lines",
    )
  }

  /** The UNL's node id is not the identity's: peers would refuse every handshake. */
  static IDENTITY_MISMATCH(unlNodeId: string, identityNodeId: string): UnlError {
    return new UnlError(
      'ERR_IDENTITY_MISMATCH',
      `The UNL's node id ${unlNodeId} is not the identity's ${identityNodeId}: build the UNL with ` +
        'identity.nodeId',
    )
  }

  /** The hello inside a secure channel names another node than the key the handshake proved. */
  static HELLO_ID_MISMATCH(claimed: string, authenticated: string): UnlError {
    return new UnlError(
      'ERR_HELLO_ID_MISMATCH',
      `Incoming connection refused: its hello claims node id ${claimed} but its key proves ${authenticated}`,
    )
  }

  /** A plain-line (`secure: false`) endpoint met a peer that runs the secure handshake. */
  static SECURE_PEER(line: string): UnlError {
    return new UnlError(
      'ERR_SECURE_PEER',
      `The peer runs secure connections (it sent ${JSON.stringify(line.slice(0, 64))}) and this node ` +
        "plain lines: both ends must use the same 'secure' setting",
    )
  }

  /** A secure upgrade was given a LineSocket that already reads its socket (the handshake needs it raw). */
  static SOCKET_IN_USE(): UnlError {
    return new UnlError(
      'ERR_SOCKET_IN_USE',
      'The connection already has a line reader on its socket, so the secure handshake cannot read it: ' +
        'pass the raw net.Socket, or a LineSocket made with rawLineOptions()',
    )
  }

  /**
   * A challenge (another node's punch to us) declined by one of our punch limits (punch-guard.ts);
   * the server hears `REJECT <punch-id> limit=<limit> ...` and the candidate gets ERR_PUNCH_REJECTED.
   */
  static PUNCH_LIMITED(limit: string, detail: string): UnlError {
    return new UnlError('ERR_PUNCH_LIMITED', `Punch declined: limit=${limit} ${detail}`, { limit })
  }

  /** The node we dialled answered our hello with `ERR_PEER_FULL`: its slots are taken; try another node. */
  static PEER_FULL(text: string): UnlError {
    return new UnlError('ERR_PEER_FULL', `The peer is full and refused the connection: ${text}`, {
      refusal: 'ERR_PEER_FULL',
    })
  }

  /** The node we dialled answered our hello with another refusal (`ERR_DUPLICATE`, `ERR_SELF`, ...). */
  static PEER_REFUSED(code: string, text: string): UnlError {
    return new UnlError('ERR_PEER_REFUSED', `The peer refused the connection (${code}): ${text}`, {
      refusal: code,
    })
  }

  /** The node we dialled did not answer our hello with `OK` or a refusal (in time, or at all). */
  static INVALID_ADMISSION(detail: string, cause?: unknown): UnlError {
    return new UnlError(
      'ERR_INVALID_ADMISSION',
      `The peer did not admit the connection: ${detail} (a node of an older pyp2p version sends no answer)`,
      { cause },
    )
  }

  /** Accepting side: our node refused a connection after its hello (the peer was told `code`). */
  static NOT_ADMITTED(nodeId: string, code: string, text: string): UnlError {
    return new UnlError('ERR_NOT_ADMITTED', `Connection from ${nodeId} not admitted (${code}): ${text}`, {
      refusal: code,
    })
  }

  /** An option (or limit) out of range; `field` names it. */
  static INVALID_OPTION(name: string, value: unknown, expected: string): UnlError {
    return new UnlError(
      'ERR_INVALID_OPTION',
      `Invalid option ${name}: ${typeof value === 'string' ? JSON.stringify(value) : String(value)} (expected ${expected})`,
      { field: name },
    )
  }

  /**
   * The peer answered our reverse-connect request, through the relay, that it will not dial us
   * (`REVERSE_REFUSED`): `refusal` is its reason code (`rate-limited`), so the requester stops waiting.
   */
  static REVERSE_REFUSED(nodeId: string, reason: string, text: string): UnlError {
    return new UnlError(
      'ERR_REVERSE_REFUSED',
      `${nodeId} refused our reverse-connect request (${reason}): ${text}`,
      { refusal: reason },
    )
  }

  static INVALID_RELAY_LINE(detail: string): UnlError {
    return new UnlError('ERR_INVALID_RELAY_LINE', `The peer broke the relayed line framing: ${detail}`)
  }

  static CIRCUIT_ENDED(cause?: unknown): UnlError {
    return new UnlError(
      'ERR_CIRCUIT_ENDED',
      'The circuit ended without the peer closing it (the relay or the peer went away): reconnect',
      { cause },
    )
  }

  static UPGRADE_BROKEN(detail: string): UnlError {
    return new UnlError('ERR_UPGRADE_BROKEN', `Moving the relayed connection failed midway: ${detail}`)
  }

  static UPGRADE_FAILED(detail: string, cause?: unknown): UnlError {
    return new UnlError('ERR_UPGRADE_FAILED', `No better path than the relay (it stays): ${detail}`, {
      cause,
    })
  }

  static CLOSED(): UnlError {
    return new UnlError('ERR_CLOSED', 'The connector is closed')
  }
}

/** "direct failed after 12 ms (ECONNREFUSED); reverse skipped (no relay)" */
export function describeAttempts(attempts: AttemptReport[]): string {
  if (attempts.length === 0) return 'no method was tried'
  return attempts
    .map((a) => {
      const why = a.error ? ` (${a.error.message})` : ''
      if (a.skipped) return `${a.method} skipped${why}`
      return `${a.method} ${a.ok ? 'succeeded' : 'failed'} after ${Math.round(a.durationMs)} ms${why}`
    })
    .join('; ')
}
