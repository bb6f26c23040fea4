/**
 * Options and events of RelayServer; every default is a constant in constants.ts.
 */
import { type Clock, type RateLimit, systemClock } from '@pyp2p/limits'
import type { MessageStore } from './message-store.js'

export interface RelayServerOptions {
  /** Where messages wait. Default: in memory, with the queue limits below. */
  store?: MessageStore
  /** How long a message waits for its recipient, ms. Default MESSAGE_TTL_MS (120 s). */
  messageTtl?: number
  /** Largest message, UTF-8 bytes. Default MAX_MESSAGE_BYTES (4096). */
  maxMessageBytes?: number
  /** Longest line accepted; a longer one closes that connection. Default MAX_RELAY_LINE_LENGTH. */
  maxLineLength?: number
  /** Queue limits of the default store. */
  maxQueuedPerNode?: number
  maxQueuedPerPair?: number
  maxQueuedTotal?: number
  maxQueuedBytes?: number
  /** Open connections at most (authenticated or not). Default MAX_RELAY_CONNECTIONS. */
  maxConnections?: number
  /** Sends per sender node id. Default { burst: 30, perSecond: 5 }. */
  senderLimit?: RateLimit
  /** Sends per source IP address. Default { burst: 100, perSecond: 20 }. */
  ipLimit?: RateLimit
  /** Authentication attempts per source IP address. Default { burst: 20, perSecond: 2 }. */
  authLimit?: RateLimit
  /** Time allowed for the hello and AUTH lines, ms. Default HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeout?: number
  /** How often expired messages are dropped, ms. Default SWEEP_INTERVAL_MS. */
  sweepInterval?: number
  /**
   * Where message expiry and the rate limits read the time (ms). Default `systemClock` from
   * @pyp2p/limits; tests pass a `manualClock()` and step it. A plain `() => number` (the shape of
   * earlier versions) is still accepted.
   */
  clock?: Clock | (() => number)
}

export interface HandleOptions {
  /** The connection's first line when the caller has already read it (an embedding server has). */
  firstLine?: string
}

export interface RelayServerEvents {
  /** A node authenticated. */
  session: [info: { nodeId: string; address: string }]
}

/** The `clock` option as a `Clock`. */
export function serverClock(clock: RelayServerOptions['clock']): Clock {
  if (clock === undefined) return systemClock
  return typeof clock === 'function' ? { now: clock } : clock
}
