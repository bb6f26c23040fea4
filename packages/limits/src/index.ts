/**
 * @packageDocumentation
 * Limits for pyp2p's servers and nodes, in one place: a `TokenBucket` (two numbers, one per connection)
 * and a `RateLimiter` of buckets keyed by IP, node id or network prefix; `networkKeys()`, which network
 * an address belongs to (IPv4 /24, IPv6 /64 as one IP and /48 as one network, IPv4-mapped IPv6 as
 * IPv4); a `FairTable` bounded in total, per IP and per prefix that, when full, admits a newcomer from an
 * under-represented prefix by evicting from the most-represented one; and a `LimitCounter` so operators
 * see which limit fires for which prefix. Time comes from an injectable `Clock`, so tests step it.
 *
 * @example
 * ```ts
 * import { FairTable, manualClock, RateLimiter } from '@pyp2p/limits'
 *
 * const clock = manualClock()
 * const perIp = new RateLimiter({ burst: 2, perSecond: 0.5, maxKeys: 10_000, clock })
 * console.log(perIp.take('10.0.0.1'), perIp.take('10.0.0.1'), perIp.take('10.0.0.1')) // true true false
 * clock.advance(2_000) // one token back after 2 s
 * console.log(perIp.take('10.0.0.1')) // true
 *
 * const table = new FairTable<string>({ capacity: 2, maxPerIp: 2, maxPerPrefix: 2 })
 * for (const ip of ['10.9.9.1', '10.9.9.2']) table.add(ip, table.keysOf(ip))
 * const a = table.admit('10.8.8.1', (members) => members.values().next().value)
 * console.log(a.ok && a.victim) // '10.9.9.1': the full /24 gives up its oldest entry
 * ```
 */
export { type Clock, type ManualClock, manualClock, systemClock } from './clock.js'
export * from './constants.js'
export { LimitsError, type LimitsErrorCode } from './errors.js'
export {
  type Admission,
  FairTable,
  type FairTableOptions,
  type RefusedBy,
  type VictimPolicy,
} from './fair-table.js'
export { LimitCounter, type LimitCounterOptions, type LimitHitCount } from './limit-counter.js'
export {
  checkPrefixLengths,
  DEFAULT_PREFIX_LENGTHS,
  type NetworkKeys,
  networkKeys,
  type PrefixLengths,
} from './network-prefix.js'
export { RateLimiter, type RateLimiterOptions } from './rate-limiter.js'
export { checkRateLimit, type RateLimit, TokenBucket } from './token-bucket.js'
