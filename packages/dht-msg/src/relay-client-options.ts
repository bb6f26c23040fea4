/**
 * Options and events of RelayClient; every default is a constant in constants.ts.
 */

import type { NodeIdentity } from '@pyp2p/identity'
import type { Clock } from '@pyp2p/limits'
import type { RelayError } from './errors.js'
import type { TransportMessage } from './transport.js'

export interface RelayClientOptions {
  host: string
  port: number
  /** Local address to connect from (on a host with several addresses). */
  localAddress?: string
  /** Who we are. Default: a new random identity (keep `client.identity.secret` to reuse the node id). */
  identity?: NodeIdentity
  /** Largest message, UTF-8 bytes; larger sends reject at once. Default MAX_MESSAGE_BYTES (4096). */
  maxMessageBytes?: number
  /** Messages waiting for the relay at most. Default MAX_OUTGOING_QUEUE (1000). */
  maxOutgoing?: number
  /** A queued message not accepted by the relay within this many ms rejects with ERR_EXPIRED. */
  messageTtl?: number
  /** Received messages held for a reader at most (more stay on the relay). Default MAX_INBOX. */
  maxInbox?: number
  /** TCP connect plus handshake, ms. Default CONNECT_TIMEOUT_MS. */
  connectTimeout?: number
  /** Idle time before a PING; a PING unanswered as long drops the connection. Default KEEPALIVE_MS. */
  keepAlive?: number
  /** Reconnect after a drop. Default true. */
  reconnect?: boolean
  /** Reconnect backoff, ms (doubles from min to max, with jitter). */
  reconnectMinDelay?: number
  reconnectMaxDelay?: number
  /** Longest line accepted from the relay. Default MAX_RELAY_LINE_LENGTH. */
  maxLineLength?: number
  /**
   * Where `messageTtl` reads the time (ms). Default `systemClock` from @pyp2p/limits; tests pass a
   * `manualClock()` and step it.
   */
  clock?: Clock
}

export interface RelayClientEvents {
  message: [message: TransportMessage]
  /** A connection authenticated; `address`/`port` are ours as the relay saw them. */
  connected: [info: { address: string; port: number }]
  disconnected: [info: { error?: Error; reconnecting: boolean }]
  /** Something the relay reported that no pending send was waiting for (an ERROR line). */
  warning: [error: RelayError]
  close: [info: { error?: RelayError }]
}
