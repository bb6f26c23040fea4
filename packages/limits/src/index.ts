/**
 * @packageDocumentation
 * Rate limits for pyp2p: a `TokenBucket` (two numbers, one per connection) and a `RateLimiter` of
 * buckets keyed by IP, node id or network prefix with a bound on the keys kept — the one limiter the
 * bootstrap server, its dial-back check and the message relay share. Time comes from an injectable
 * `Clock`, so tests step it instead of sleeping.
 *
 * @example
 * ```ts
 * import { manualClock, RateLimiter } from '@pyp2p/limits'
 *
 * const clock = manualClock()
 * const perIp = new RateLimiter({ burst: 2, perSecond: 0.5, maxKeys: 10_000, clock })
 * console.log(perIp.take('10.0.0.1'), perIp.take('10.0.0.1'), perIp.take('10.0.0.1')) // true true false
 * clock.advance(2_000) // one token back after 2 s
 * console.log(perIp.take('10.0.0.1')) // true
 * ```
 */
export { type Clock, type ManualClock, manualClock, systemClock } from './clock.js'
export { LimitsError, type LimitsErrorCode } from './errors.js'
export { RateLimiter, type RateLimiterOptions } from './rate-limiter.js'
export { checkRateLimit, type RateLimit, TokenBucket } from './token-bucket.js'
