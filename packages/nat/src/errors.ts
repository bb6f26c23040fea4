/** Stable codes of {@link NatError}. */
export type NatErrorCode =
  | 'ERR_NO_GATEWAY'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_CLOSED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_PORT_IN_USE'
  | 'ERR_NOT_AUTHORIZED'
  | 'ERR_OUT_OF_RESOURCES'
  | 'ERR_GATEWAY'
  | 'ERR_NOT_SUPPORTED'
  | 'ERR_NOT_MAPPED'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_ADDRESS_MISMATCH'

export interface NatErrorDetails {
  /** UPnP error code from a SOAP fault (718, 725, ...), if any */
  upnpCode?: number
  /** NAT-PMP result code (1..5), if any */
  natpmpCode?: number
  /** PCP result code (1..13, RFC 6887 section 7.4), if any */
  pcpCode?: number
  cause?: unknown
}

/** The one error class of @pyp2p/nat. `code` is stable; the message says what to do. */
export class NatError extends Error {
  override readonly name = 'NatError'
  readonly code: NatErrorCode
  readonly upnpCode: number | undefined
  readonly natpmpCode: number | undefined
  readonly pcpCode: number | undefined

  constructor(code: NatErrorCode, message: string, details: NatErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    this.upnpCode = details.upnpCode
    this.natpmpCode = details.natpmpCode
    this.pcpCode = details.pcpCode
  }

  static NO_GATEWAY(timeoutMs: number, where: string): NatError {
    return new NatError(
      'ERR_NO_GATEWAY',
      `No PCP, NAT-PMP or UPnP IGD gateway answered within ${timeoutMs} ms on ${where}. Enable UPnP or ` +
        'NAT-PMP on the router (or forward the port by hand), or raise `timeout` on a slow network.',
    )
  }

  static TIMEOUT(what: string, timeoutMs: number, cause?: unknown): NatError {
    return new NatError(
      'ERR_TIMEOUT',
      `${what} got no answer within ${timeoutMs} ms. The gateway may be busy or gone; try again or raise \`timeout\`.`,
      { cause },
    )
  }

  static ABORTED(what: string, cause?: unknown): NatError {
    return new NatError('ERR_ABORTED', `${what} was aborted by its signal.`, { cause })
  }

  static CLOSED(): NatError {
    return new NatError('ERR_CLOSED', 'This NAT client is closed; create a new one.')
  }

  static INVALID_ARGUMENT(message: string): NatError {
    return new NatError('ERR_INVALID_ARGUMENT', message)
  }

  static INVALID_RESPONSE(what: string, cause?: unknown): NatError {
    return new NatError(
      'ERR_INVALID_RESPONSE',
      `The gateway sent a malformed ${what}. It may not be a standard UPnP/NAT-PMP/PCP router.`,
      { cause },
    )
  }

  static PORT_IN_USE(port: number, protocol: string, details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_PORT_IN_USE',
      `External ${protocol} port ${port} is already mapped to another host on the router. Leave ` +
        '`externalPort` out (or set `exactExternalPort: false`) to take another port, or free it on the router.',
      details,
    )
  }

  static NOT_AUTHORIZED(details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_NOT_AUTHORIZED',
      'The router refused the port mapping: it allows mappings only to the host asking (secure mode) or has ' +
        'UPnP/NAT-PMP port mapping switched off. Map from the host that will listen, or allow it in the router.',
      details,
    )
  }

  static OUT_OF_RESOURCES(details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_OUT_OF_RESOURCES',
      'The router has no free mappings or ports left. Remove unused mappings (`pyp2p-nat list`) and try again.',
      details,
    )
  }

  static GATEWAY(what: string, reason: string, details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_GATEWAY',
      `The gateway refused ${what}: ${reason}. Check the router's UPnP/NAT-PMP settings; try another port.`,
      details,
    )
  }

  static NOT_SUPPORTED(what: string, details: NatErrorDetails = {}): NatError {
    return new NatError('ERR_NOT_SUPPORTED', `${what} is not possible with this gateway's protocol.`, details)
  }

  static UNSUPPORTED_VERSION(what: string, details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_UNSUPPORTED_VERSION',
      `The gateway does not speak ${what} (it answered with an unsupported-version reply). Another ` +
        'protocol (NAT-PMP, UPnP) may work: leave `methods` at its default.',
      details,
    )
  }

  static ADDRESS_MISMATCH(details: NatErrorDetails = {}): NatError {
    return new NatError(
      'ERR_ADDRESS_MISMATCH',
      'The PCP server saw our request come from another address than the one inside it (PCP result 12): ' +
        'another NAT sits between this host and the gateway. Map on the router nearest to this host.',
      details,
    )
  }

  static NOT_MAPPED(port: number, protocol: string): NatError {
    return new NatError(
      'ERR_NOT_MAPPED',
      `No ${protocol} mapping for internal port ${port} was made by this client; nothing to remove.`,
    )
  }
}
