/**
 * The relay's three rate limits — sends per sender node id, sends per source address, authentication
 * attempts per source address — each a keyed `RateLimiter` of @pyp2p/limits on the server's clock.
 */
import { type Clock, type RateLimit, RateLimiter } from '@pyp2p/limits'
import {
  AUTH_BURST,
  AUTH_RATE_PER_SECOND,
  IP_BURST,
  IP_RATE_PER_SECOND,
  MAX_RATE_LIMIT_KEYS,
  SENDER_BURST,
  SENDER_RATE_PER_SECOND,
} from './constants.js'

export interface RelayRateLimitOptions {
  senderLimit?: RateLimit | undefined
  ipLimit?: RateLimit | undefined
  authLimit?: RateLimit | undefined
}

export class RelayRateLimits {
  /** Sends per sender node id. */
  readonly senders: RateLimiter
  /** Sends per source IP address. */
  readonly ips: RateLimiter
  /** Authentication attempts per source IP address. */
  readonly auths: RateLimiter

  /** Throws LimitsError ERR_INVALID_LIMIT for a limit with burst < 1 or perSecond < 0. */
  constructor(options: RelayRateLimitOptions, clock: Clock) {
    const limiter = (limit: RateLimit | undefined, burst: number, perSecond: number): RateLimiter =>
      new RateLimiter({ ...(limit ?? { burst, perSecond }), maxKeys: MAX_RATE_LIMIT_KEYS, clock })
    this.senders = limiter(options.senderLimit, SENDER_BURST, SENDER_RATE_PER_SECOND)
    this.ips = limiter(options.ipLimit, IP_BURST, IP_RATE_PER_SECOND)
    this.auths = limiter(options.authLimit, AUTH_BURST, AUTH_RATE_PER_SECOND)
  }

  /** Forget keys whose buckets are full again. */
  sweep(now: number): void {
    this.senders.sweep(now)
    this.ips.sweep(now)
    this.auths.sweep(now)
  }
}
