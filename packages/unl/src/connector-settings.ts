/**
 * UnlConnector's options with their defaults applied (constants.ts), and the part every upgrade gets.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import { isCipherList } from '@pyp2p/secure'
import type { UnlConnectorOptions } from './connector-options.js'
import {
  DIAL_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TIMEOUT_MS,
  HELLO_TIMEOUT_MS,
  REVERSE_RESEND_MS,
  REVERSE_TIMEOUT_MS,
} from './constants.js'
import { UnlError } from './errors.js'
import type { UpgradeOptions } from './upgrade.js'

export interface ConnectorSettings {
  dialTimeout: number
  reverseTimeout: number
  reverseResend: number
  helloTimeout: number
  secure: boolean
  identity: NodeIdentity | undefined
  /** What upgrade.ts needs, the same for every connection. */
  upgrade: UpgradeOptions
}

/** Throws ERR_IDENTITY_REQUIRED when secure (the default) without an identity. */
export function connectorSettings(o: UnlConnectorOptions): ConnectorSettings {
  const secure = o.secure ?? true
  if (secure && o.identity === undefined) throw UnlError.IDENTITY_REQUIRED()
  if (o.ciphers !== undefined && !isCipherList(o.ciphers)) {
    throw UnlError.INVALID_OPTION('ciphers', o.ciphers, 'a non-empty list of distinct Noise ciphers')
  }
  const interval = o.heartbeatInterval ?? HEARTBEAT_INTERVAL_MS
  const heartbeat = { interval, timeout: o.heartbeatTimeout ?? HEARTBEAT_TIMEOUT_MS }
  return {
    dialTimeout: o.dialTimeout ?? DIAL_TIMEOUT_MS,
    reverseTimeout: o.reverseTimeout ?? REVERSE_TIMEOUT_MS,
    reverseResend: o.reverseResend ?? REVERSE_RESEND_MS,
    helloTimeout: o.helloTimeout ?? HELLO_TIMEOUT_MS,
    secure,
    identity: o.identity,
    upgrade: {
      secure,
      handshakeTimeout: o.handshakeTimeout ?? HANDSHAKE_TIMEOUT_MS,
      ...(o.ciphers !== undefined && { ciphers: o.ciphers }),
      lineLimits: o.lineLimits ?? {},
      ...(secure && interval > 0 && { heartbeat }),
      ...(o.identity !== undefined && { identity: o.identity }),
    },
  }
}

/** Secure, the UNL's node id must be the identity's (the handshake proves the key's); plain, any. */
export function checkIdentity(s: ConnectorSettings, nodeId: string): void {
  if (s.secure && s.identity !== undefined && nodeId !== s.identity.nodeId) {
    throw UnlError.IDENTITY_MISMATCH(nodeId, s.identity.nodeId)
  }
}
