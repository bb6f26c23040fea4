/**
 * Everything that keeps one network from taking the relay: its connections bounded in total, per IP
 * (an IPv6 /64) and per network prefix (IPv4 /24, IPv6 /48) by @pyp2p/limits' `FairTable`; the rate
 * limits (relay-rate-limits.ts) by node id, address and prefix; and a count of every limit that fires,
 * by name and prefix (`LimitCounter`), also reported to the `onLimit` option (bootstrap-server counts
 * the embedded relay's limits with its own).
 */
import {
  type Clock,
  FairTable,
  LimitCounter,
  type LimitHitCount,
  type NetworkKeys,
  type PrefixLengths,
} from '@pyp2p/limits'
import {
  MAX_RELAY_CONNECTIONS,
  MAX_RELAY_CONNECTIONS_PER_IP,
  MAX_RELAY_CONNECTIONS_PER_PREFIX,
} from './constants.js'
import { RelayError } from './errors.js'
import { RelayRateLimits } from './relay-rate-limits.js'
import type { RelayServerOptions } from './relay-server-options.js'

export class RelayGuard {
  readonly rates: RelayRateLimits
  readonly #connections: FairTable<object>
  readonly #counter: LimitCounter
  readonly #onLimit: RelayServerOptions['onLimit']
  readonly #clock: Clock

  /** Throws LimitsError ERR_INVALID_LIMIT for a bad limit. */
  constructor(options: RelayServerOptions, clock: Clock) {
    this.#clock = clock
    this.rates = new RelayRateLimits(options, clock)
    this.#connections = new FairTable({
      capacity: options.maxConnections ?? MAX_RELAY_CONNECTIONS,
      maxPerIp: options.maxConnectionsPerIp ?? MAX_RELAY_CONNECTIONS_PER_IP,
      maxPerPrefix: options.maxConnectionsPerPrefix ?? MAX_RELAY_CONNECTIONS_PER_PREFIX,
      ...(options.prefixLengths === undefined ? {} : { lengths: options.prefixLengths }),
    })
    this.#counter = new LimitCounter({ clock })
    this.#onLimit = options.onLimit
  }

  get lengths(): PrefixLengths {
    return this.#connections.lengths
  }

  /** The keys of an address; one that does not parse is its own IP and prefix. */
  keys(address: string): NetworkKeys {
    try {
      return this.#connections.keysOf(address)
    } catch {
      return { family: 4, address, host: address, prefix: address }
    }
  }

  /** Counts `connection` in, or returns why not (a typed `ERR_RELAY_FULL` naming the IP or prefix). */
  admit(connection: object, address: string): RelayError | undefined {
    const keys = this.keys(address)
    const a = this.#connections.admit(keys)
    if (a.ok) {
      this.#connections.add(connection, keys)
      return undefined
    }
    const where =
      a.refusedBy === 'full'
        ? 'connections'
        : `${a.refusedBy === 'per-ip' ? 'ip' : 'prefix'}=${a.key}: connections`
    return this.refused(
      RelayError.RELAY_FULL(`${where} at the limit of ${a.limit}`, `connections.${a.refusedBy}`),
      keys.prefix,
    )
  }

  /** The connection closed. Idempotent. */
  release(connection: object): void {
    this.#connections.delete(connection)
  }

  /** Whether this address may try to authenticate now (per address and per prefix). */
  mayAuthenticate(address: string): boolean {
    const { host, prefix } = this.keys(address)
    const now = this.#clock.now()
    if (!this.rates.auths.take(host, now)) return this.#hit('rate.auth', prefix)
    if (!this.rates.authPrefixes.take(prefix, now)) return this.#hit('rate.auth-prefix', prefix)
    return true
  }

  /** The error if a send from this node id and address is over a rate limit. */
  maySend(nodeId: string, address: string): RelayError | undefined {
    const { host, prefix } = this.keys(address)
    const now = this.#clock.now()
    if (!this.rates.senders.take(nodeId, now)) return this.refused(RelayError.RATE_LIMITED('node id'), prefix)
    if (!this.rates.ips.take(host, now)) return this.refused(RelayError.RATE_LIMITED('address'), prefix)
    if (!this.rates.prefixes.take(prefix, now)) {
      return this.refused(RelayError.RATE_LIMITED(`network prefix=${prefix}`, 'rate.prefix'), prefix)
    }
    return undefined
  }

  /** Counts the limit `error` names (if it names one) for `prefix`, and returns the error. */
  refused(error: RelayError, prefix: string): RelayError {
    if (error.limit !== undefined) this.#hit(error.limit, prefix)
    return error
  }

  /** Hits per limit name since start. */
  totals(): Record<string, number> {
    return this.#counter.totals()
  }

  /** The (limit, prefix) pairs that fired most. */
  top(n?: number): LimitHitCount[] {
    return this.#counter.top(n)
  }

  #hit(limit: string, prefix: string): false {
    this.#counter.hit(limit, prefix)
    this.#onLimit?.(limit, prefix)
    return false
  }
}
