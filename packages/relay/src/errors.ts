/**
 * `CircuitError`: every failure of the circuit relay, client and server, with a stable `code`. The
 * server sends the same codes on the wire (`ERROR <CODE> <text>`), and the client rebuilds them.
 */

export type CircuitErrorCode =
  | 'ERR_NO_RESERVATION'
  | 'ERR_RELAY_FULL'
  | 'ERR_CIRCUIT_LIMIT'
  | 'ERR_AUTH_FAILED'
  | 'ERR_ACCEPT_TIMEOUT'
  | 'ERR_UNKNOWN_CIRCUIT'
  | 'ERR_PROTOCOL'
  | 'ERR_REPLACED'
  | 'ERR_RELAY_CLOSED'
  | 'ERR_CONNECT_FAILED'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_CLOSED'
  | 'ERR_INVALID_OPTION'

/** Which limit ended a circuit (the word after `ERR_CIRCUIT_LIMIT`). */
export type CircuitLimitKind = 'bytes' | 'duration'

const CODES = new Set<string>([
  'ERR_NO_RESERVATION',
  'ERR_RELAY_FULL',
  'ERR_CIRCUIT_LIMIT',
  'ERR_AUTH_FAILED',
  'ERR_ACCEPT_TIMEOUT',
  'ERR_UNKNOWN_CIRCUIT',
  'ERR_PROTOCOL',
  'ERR_REPLACED',
  'ERR_RELAY_CLOSED',
])

export class CircuitError extends Error {
  readonly code: CircuitErrorCode

  constructor(code: CircuitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CircuitError'
    this.code = code
  }

  /** Whether `code` is one the relay may send on the wire. */
  static isWireCode(code: string): code is CircuitErrorCode {
    return CODES.has(code)
  }

  static NO_RESERVATION(nodeId: string): CircuitError {
    return new CircuitError(
      'ERR_NO_RESERVATION',
      `node ${nodeId} holds no reservation at this relay: it must reserve before others can reach it here`,
    )
  }

  static RELAY_FULL(limit: string, max: number): CircuitError {
    return new CircuitError(
      'ERR_RELAY_FULL',
      `${limit} limit reached (${max}): try again later or another relay`,
    )
  }

  static CIRCUIT_LIMIT(kind: CircuitLimitKind, limit: number): CircuitError {
    const what = kind === 'bytes' ? `${limit} bytes in one direction` : `${limit} ms`
    return new CircuitError(
      'ERR_CIRCUIT_LIMIT',
      `${kind}: the relay ended the circuit after ${what}; connect again for a new circuit`,
    )
  }

  static AUTH_FAILED(why: string): CircuitError {
    return new CircuitError('ERR_AUTH_FAILED', `reservation refused: ${why}`)
  }

  static ACCEPT_TIMEOUT(ms: number): CircuitError {
    return new CircuitError('ERR_ACCEPT_TIMEOUT', `the target did not accept the circuit within ${ms} ms`)
  }

  static UNKNOWN_CIRCUIT(id: string): CircuitError {
    return new CircuitError('ERR_UNKNOWN_CIRCUIT', `no circuit ${id} is waiting to be accepted here`)
  }

  static PROTOCOL(what: string): CircuitError {
    return new CircuitError('ERR_PROTOCOL', `circuit protocol: ${what}`)
  }

  static REPLACED(nodeId: string): CircuitError {
    return new CircuitError('ERR_REPLACED', `a newer reservation for ${nodeId} replaced this one`)
  }

  static RELAY_CLOSED(what: string): CircuitError {
    return new CircuitError('ERR_RELAY_CLOSED', `the relay closed ${what}`)
  }

  static CONNECT_FAILED(host: string, port: number, cause: unknown): CircuitError {
    const why = cause instanceof Error ? cause.message : String(cause)
    return new CircuitError('ERR_CONNECT_FAILED', `could not reach the relay at ${host}:${port}: ${why}`, {
      cause,
    })
  }

  static TIMEOUT(what: string, ms: number): CircuitError {
    return new CircuitError('ERR_TIMEOUT', `${what} took longer than ${ms} ms`)
  }

  static ABORTED(reason?: unknown): CircuitError {
    return new CircuitError('ERR_ABORTED', 'aborted by the caller', { cause: reason })
  }

  static CLOSED(): CircuitError {
    return new CircuitError('ERR_CLOSED', 'the reservation was closed')
  }

  static INVALID_OPTION(name: string, want: string, got: unknown): CircuitError {
    return new CircuitError('ERR_INVALID_OPTION', `option ${name} must be ${want}, got ${String(got)}`)
  }

  /** An `ERROR <CODE> <text>` line from the relay, typed (unknown codes become ERR_PROTOCOL). */
  static fromWire(code: string, text: string): CircuitError {
    if (CircuitError.isWireCode(code)) return new CircuitError(code, text)
    return CircuitError.PROTOCOL(`relay error ${code}: ${text}`)
  }
}
