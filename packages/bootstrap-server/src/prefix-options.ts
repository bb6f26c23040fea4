/**
 * The server's limits per network prefix, their defaults (constants.ts) and CLI flags, kept apart from
 * options.ts so each file stays one job. Every table a stranger can fill is bounded per IP (an IPv6 /64
 * counts as one IP) and per prefix (an IPv4 /24, an IPv6 /48) as well as in total.
 */
import * as C from './constants.js'
import { BootstrapServerError } from './errors.js'

export interface PrefixLimitOptions {
  /** Connections from one network prefix (IPv4 /24, IPv6 /48). Default 1,024. */
  readonly maxConnectionsPerPrefix?: number
  /** Registered nodes from one network prefix. Default 1,024. */
  readonly maxNodesPerPrefix?: number
  /** Pending punches on the whole server. Default 20,000. */
  readonly maxPendingPunches?: number
  /** Pending punches started from one IP. Default 64. */
  readonly maxPunchesPerIp?: number
  /** Pending punches started from one network prefix. Default 256. */
  readonly maxPunchesPerPrefix?: number
  /** Dial-backs running at once for one IP. Default 8. */
  readonly maxPendingChecksPerIp?: number
  /** Dial-backs running at once for one network prefix. Default 32. */
  readonly maxPendingChecksPerPrefix?: number
  /** `CHECK`s one network prefix may start in a burst. Default 20. */
  readonly checkPrefixBurst?: number
  /** After that burst, one `CHECK` per prefix per this many ms. Default 2,500. */
  readonly checkPrefixIntervalMs?: number
  /** Close a connection that sent no complete line this long after it was accepted (ms). Default 10,000. */
  readonly handshakeTimeoutMs?: number
  /** Bits of an IPv4 network prefix. Default 24. */
  readonly ipv4PrefixLength?: number
  /** Bits of an IPv6 network prefix (at most `ipv6HostLength`). Default 48. */
  readonly ipv6PrefixLength?: number
  /** Bits of an IPv6 address that count as one IP. Default 64. */
  readonly ipv6HostLength?: number
}

type Key = keyof PrefixLimitOptions

/** CLI flag, option, default, meaning; spread into the CLI's numeric flags. */
export const PREFIX_FLAGS = [
  [
    'max-connections-per-prefix',
    'maxConnectionsPerPrefix',
    C.DEFAULT_MAX_CONNECTIONS_PER_PREFIX,
    'connections from one IPv4 /24 or IPv6 /48',
  ],
  [
    'max-nodes-per-prefix',
    'maxNodesPerPrefix',
    C.DEFAULT_MAX_NODES_PER_PREFIX,
    'registered nodes per network prefix',
  ],
  ['max-pending-punches', 'maxPendingPunches', C.DEFAULT_MAX_PENDING_PUNCHES, 'pending punches in total'],
  [
    'max-punches-per-ip',
    'maxPunchesPerIp',
    C.DEFAULT_MAX_PUNCHES_PER_IP,
    'pending punches started from one IP',
  ],
  [
    'max-punches-per-prefix',
    'maxPunchesPerPrefix',
    C.DEFAULT_MAX_PUNCHES_PER_PREFIX,
    'pending punches started from one prefix',
  ],
  [
    'max-pending-checks-per-ip',
    'maxPendingChecksPerIp',
    C.DEFAULT_MAX_PENDING_CHECKS_PER_IP,
    'dial-backs running for one IP',
  ],
  [
    'max-pending-checks-per-prefix',
    'maxPendingChecksPerPrefix',
    C.DEFAULT_MAX_PENDING_CHECKS_PER_PREFIX,
    'dial-backs running for one prefix',
  ],
  [
    'check-prefix-burst',
    'checkPrefixBurst',
    C.DEFAULT_CHECK_PREFIX_BURST,
    'CHECKs one prefix may start in a burst',
  ],
  [
    'check-prefix-interval',
    'checkPrefixIntervalMs',
    C.DEFAULT_CHECK_PREFIX_INTERVAL_MS,
    'ms per further CHECK from one prefix',
  ],
  [
    'handshake-timeout',
    'handshakeTimeoutMs',
    C.DEFAULT_HANDSHAKE_TIMEOUT_MS,
    'ms a new connection has to send its first line',
  ],
  ['ipv4-prefix-length', 'ipv4PrefixLength', C.DEFAULT_IPV4_PREFIX_LENGTH, 'bits of an IPv4 network prefix'],
  ['ipv6-prefix-length', 'ipv6PrefixLength', C.DEFAULT_IPV6_PREFIX_LENGTH, 'bits of an IPv6 network prefix'],
  [
    'ipv6-host-length',
    'ipv6HostLength',
    C.DEFAULT_IPV6_HOST_LENGTH,
    'bits of an IPv6 address counted as one IP',
  ],
] as const satisfies readonly (readonly [string, Key, number, string])[]

const RANGES: Readonly<Record<Key, readonly [number, number]>> = {
  maxConnectionsPerPrefix: [1, 10_000_000],
  maxNodesPerPrefix: [1, 100_000_000],
  maxPendingPunches: [1, 10_000_000],
  maxPunchesPerIp: [1, 10_000_000],
  maxPunchesPerPrefix: [1, 10_000_000],
  maxPendingChecksPerIp: [1, 1_000_000],
  maxPendingChecksPerPrefix: [1, 1_000_000],
  checkPrefixBurst: [1, 1_000_000],
  checkPrefixIntervalMs: [1, 24 * 60 * 60 * 1000],
  handshakeTimeoutMs: [1, 24 * 60 * 60 * 1000],
  ipv4PrefixLength: [1, 32],
  ipv6PrefixLength: [1, 128],
  ipv6HostLength: [1, 128],
}

/** Fills in the defaults and checks every value; throws `ERR_INVALID_OPTION`. */
export function resolvePrefixLimits(o: PrefixLimitOptions): Required<PrefixLimitOptions> {
  const out: Partial<Record<Key, number>> = {}
  for (const [, key, fallback] of PREFIX_FLAGS) {
    const v = o[key] ?? fallback
    const [min, max] = RANGES[key]
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw BootstrapServerError.INVALID_OPTION(key, v, `an integer ${min}..${max}`)
    }
    out[key] = v
  }
  const r = out as Required<PrefixLimitOptions>
  if (r.ipv6PrefixLength > r.ipv6HostLength) {
    throw BootstrapServerError.INVALID_OPTION(
      'ipv6PrefixLength',
      r.ipv6PrefixLength,
      `at most ipv6HostLength (${r.ipv6HostLength})`,
    )
  }
  return r
}

/** The prefix lengths as @pyp2p/limits takes them. */
export function prefixLengths(o: Required<PrefixLimitOptions>): {
  ipv4Prefix: number
  ipv6Host: number
  ipv6Prefix: number
} {
  return { ipv4Prefix: o.ipv4PrefixLength, ipv6Host: o.ipv6HostLength, ipv6Prefix: o.ipv6PrefixLength }
}
