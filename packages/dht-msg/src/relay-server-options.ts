/**
 * Options and events of RelayServer; every default is a constant in constants.ts.
 */
import { type Clock, type PrefixLengths, type RateLimit, systemClock } from '@pyp2p/limits'
import type { MessageStore, StoredMessage } from './message-store.js'

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
  /**
   * Fair shares of the default store's queues (sender-shares.ts): messages from one sender node id
   * (default 1,000), from one sender network prefix (IPv4 /24, IPv6 /48; default 6,250, 1/16 of the
   * default total), payload bytes from one prefix (default 4 MiB, 1/16), messages from one prefix to one
   * recipient (default 25, 1/4 of the default queue). They are absolute: when you lower the totals,
   * lower these with them.
   */
  maxQueuedPerSender?: number
  maxQueuedPerPrefix?: number
  maxQueuedBytesPerPrefix?: number
  maxQueuedPerPrefixPerNode?: number
  /** Open connections at most (authenticated or not). Default MAX_RELAY_CONNECTIONS. */
  maxConnections?: number
  /** Open connections from one IP (an IPv6 /64). Default 256. */
  maxConnectionsPerIp?: number
  /** Open connections from one network prefix (IPv4 /24, IPv6 /48). Default 1,024. */
  maxConnectionsPerPrefix?: number
  /** Prefix lengths. Default IPv4 /24, IPv6 /48, an IPv6 /64 counted as one address. */
  prefixLengths?: Partial<PrefixLengths>
  /** Sends per sender node id. Default { burst: 30, perSecond: 5 }. */
  senderLimit?: RateLimit
  /** Sends per source IP address. Default { burst: 100, perSecond: 20 }. */
  ipLimit?: RateLimit
  /** Authentication attempts per source IP address. Default { burst: 20, perSecond: 2 }. */
  authLimit?: RateLimit
  /** Sends per source network prefix. Default { burst: 400, perSecond: 80 }. */
  prefixLimit?: RateLimit
  /** Authentication attempts per source network prefix. Default { burst: 80, perSecond: 8 }. */
  authPrefixLimit?: RateLimit
  /**
   * Called for every limit that refuses something, with the limit's name (`queue.per-prefix`,
   * `rate.address`, `connections.per-ip`...) and the sender's network prefix. They are also counted
   * (`server.limitHits()`); bootstrap-server passes its own counter here.
   */
  onLimit?: (limit: string, prefix: string) => void
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
  /** A message was queued for a recipient not connected here (a host linking relays forwards it). */
  queued: [message: StoredMessage]
}

/** The `clock` option as a `Clock`. */
export function serverClock(clock: RelayServerOptions['clock']): Clock {
  if (clock === undefined) return systemClock
  return typeof clock === 'function' ? { now: clock } : clock
}

/** The entries of `o` that are not undefined (for options under exactOptionalPropertyTypes). */
export function definedOnly<T extends Record<string, number | undefined>>(o: T): { [K in keyof T]?: number } {
  const out: { [K in keyof T]?: number } = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k as keyof T] = v
  return out
}
