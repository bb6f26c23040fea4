// PCP result codes (RFC 6887 section 7.4) as NatErrors: the `code` says what to do, `pcpCode` keeps
// the router's number.
import { PCP_RESULT } from './constants.js'
import { NatError } from './errors.js'

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(PCP_RESULT).map(([name, code]) => [code, name]),
)

/** The name RFC 6887 gives a result code ('NOT_AUTHORIZED', ...), or 'RESULT_<n>'. */
export function pcpResultName(code: number): string {
  return NAMES[code] ?? `RESULT_${code}`
}

/** The NatError for a PCP result code other than SUCCESS. */
export function pcpResultError(code: number, what: string): NatError {
  const details = { pcpCode: code }
  const reason = `PCP result ${code}, ${pcpResultName(code)}`
  switch (code) {
    case PCP_RESULT.UNSUPP_VERSION:
      return NatError.UNSUPPORTED_VERSION('PCP version 2', details)
    case PCP_RESULT.NOT_AUTHORIZED:
      return NatError.NOT_AUTHORIZED(details)
    case PCP_RESULT.NO_RESOURCES:
    case PCP_RESULT.USER_EX_QUOTA:
      return NatError.OUT_OF_RESOURCES(details)
    case PCP_RESULT.ADDRESS_MISMATCH:
      return NatError.ADDRESS_MISMATCH(details)
    case PCP_RESULT.UNSUPP_OPCODE:
    case PCP_RESULT.UNSUPP_PROTOCOL:
      return NatError.NOT_SUPPORTED(`${what} (${reason})`, details)
    case PCP_RESULT.NETWORK_FAILURE:
      return NatError.GATEWAY(what, `${reason} (the router has no working WAN link yet)`, details)
    case PCP_RESULT.CANNOT_PROVIDE_EXTERNAL:
      return NatError.GATEWAY(what, `${reason} (no external port or address is free)`, details)
    default:
      return NatError.GATEWAY(what, reason, details)
  }
}
