/**
 * `NetError`: one class with a stable `code`, one static constructor per code.
 */

export type NetErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_NOT_STARTED'
  | 'ERR_ALREADY_STARTED'
  | 'ERR_STOPPED'
  | 'ERR_NO_SERVER'
  | 'ERR_LISTEN_FAILED'
  | 'ERR_ADVERTISE_FAILED'
  | 'ERR_CONNECT_SELF'
  | 'ERR_DUPLICATE_CONNECTION'
  | 'ERR_MAX_OUTBOUND'
  | 'ERR_ABORTED'
  | 'ERR_NODE_ID_MISMATCH'

export class NetError extends Error {
  readonly code: NetErrorCode

  constructor(code: NetErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'NetError'
    this.code = code
  }

  static INVALID_OPTION(name: string, value: unknown, expected: string): NetError {
    return new NetError(
      'ERR_INVALID_OPTION',
      `option ${name} must be ${expected}, got ${JSON.stringify(value)}`,
    )
  }

  static NOT_STARTED(what: string): NetError {
    return new NetError('ERR_NOT_STARTED', `${what} needs a started Net: call await net.start() first`)
  }

  static ALREADY_STARTED(): NetError {
    return new NetError('ERR_ALREADY_STARTED', 'start() was already called on this Net')
  }

  static STOPPED(what: string): NetError {
    return new NetError('ERR_STOPPED', `${what}: this Net was stopped; create a new one`)
  }

  static NO_SERVER(tried: string[], cause?: unknown): NetError {
    const list = tried.length > 0 ? tried.join(', ') : 'none configured'
    return new NetError(
      'ERR_NO_SERVER',
      `no bootstrap server answered (tried: ${list}); check the servers option and that a server runs`,
      { cause },
    )
  }

  static LISTEN_FAILED(host: string, port: number, cause: unknown): NetError {
    return new NetError(
      'ERR_LISTEN_FAILED',
      `could not listen on ${host}:${port} (${(cause as Error)?.message ?? cause}); pick another passivePort or 0`,
      { cause },
    )
  }

  static ADVERTISE_FAILED(cause: unknown): NetError {
    return new NetError(
      'ERR_ADVERTISE_FAILED',
      `the bootstrap server refused the registration (${(cause as Error)?.message ?? cause})`,
      { cause },
    )
  }

  static CONNECT_SELF(): NetError {
    return new NetError('ERR_CONNECT_SELF', 'refusing a connection to this node itself (p2p net type)')
  }

  /** We hold a connection to `nodeId` already, or (with the refusal as `cause`) that node holds one with us. */
  static DUPLICATE_CONNECTION(nodeId: string, cause?: unknown): NetError {
    if (cause !== undefined)
      return new NetError(
        'ERR_DUPLICATE_CONNECTION',
        `node ${nodeId} refused the connection as a duplicate: it holds the connection both keep with us ` +
          '(p2p net type: one connection per node)',
        { cause },
      )
    return new NetError(
      'ERR_DUPLICATE_CONNECTION',
      `already connected to node ${nodeId} (p2p net type allows one connection per node; use netType 'direct')`,
    )
  }

  static MAX_OUTBOUND(max: number): NetError {
    return new NetError('ERR_MAX_OUTBOUND', `already ${max} outbound connections (maxOutbound)`)
  }

  /** `what` (option nodeId, the dhtNode transport) names another node id than the identity's key. */
  static NODE_ID_MISMATCH(what: string, nodeId: string, identityNodeId: string): NetError {
    return new NetError(
      'ERR_NODE_ID_MISMATCH',
      `${what} has node id ${nodeId}, but the identity's is ${identityNodeId}: secure connections prove ` +
        "the key's id, so pass the identity it belongs to, drop the other id, or use secure: false",
    )
  }

  static ABORTED(reason?: unknown): NetError {
    return new NetError('ERR_ABORTED', 'the operation was aborted', { cause: reason })
  }
}

export function isNetError(err: unknown): err is NetError {
  return err instanceof NetError
}
