/**
 * The relay's rate limits — sends per sender node id, per source address and per source network
 * prefix (IPv4 /24, IPv6 /48); authentication attempts per source address and per prefix — each a keyed
 * `RateLimiter` of @pyp2p/limits on the server's clock.
 */
import { type Clock, type RateLimit, RateLimiter } from '@pyp2p/limits'
import {
  AUTH_BURST,
  AUTH_PREFIX_BURST,
  AUTH_PREFIX_RATE_PER_SECOND,
  AUTH_RATE_PER_SECOND,
  IP_BURST,
  IP_RATE_PER_SECOND,
  MAX_RATE_LIMIT_KEYS,
  PREFIX_BURST,
  PREFIX_RATE_PER_SECOND,
  SENDER_BURST,
  SENDER_RATE_PER_SECOND,
} from './constants.js'

export interface RelayRateLimitOptions {
  senderLimit?: RateLimit | undefined
  ipLimit?: RateLimit | undefined
  authLimit?: RateLimit | undefined
  prefixLimit?: RateLimit | undefined
  authPrefixLimit?: RateLimit | undefined
}

export class RelayRateLimits {
  /** Sends per sender node id. */
  readonly senders: RateLimiter
  /** Sends per source IP address. */
  readonly ips: RateLimiter
  /** Authentication attempts per source IP address. */
  readonly auths: RateLimiter
  /** Sends per source network prefix. */
  readonly prefixes: RateLimiter
  /** Authentication attempts per source network prefix. */
  readonly authPrefixes: RateLimiter

  /** Throws LimitsError ERR_INVALID_LIMIT for a limit with burst < 1 or perSecond < 0. */
  constructor(options: RelayRateLimitOptions, clock: Clock) {
    const limiter = (limit: RateLimit | undefined, burst: number, perSecond: number): RateLimiter =>
      new RateLimiter({ ...(limit ?? { burst, perSecond }), maxKeys: MAX_RATE_LIMIT_KEYS, clock })
    this.senders = limiter(options.senderLimit, SENDER_BURST, SENDER_RATE_PER_SECOND)
    this.ips = limiter(options.ipLimit, IP_BURST, IP_RATE_PER_SECOND)
    this.auths = limiter(options.authLimit, AUTH_BURST, AUTH_RATE_PER_SECOND)
    this.prefixes = limiter(options.prefixLimit, PREFIX_BURST, PREFIX_RATE_PER_SECOND)
    this.authPrefixes = limiter(options.authPrefixLimit, AUTH_PREFIX_BURST, AUTH_PREFIX_RATE_PER_SECOND)
  }

  /** Forget keys whose buckets are full again. */
  sweep(now: number): void {
    this.senders.sweep(now)
    this.ips.sweep(now)
    this.auths.sweep(now)
    this.prefixes.sweep(now)
    this.authPrefixes.sweep(now)
  }
}
