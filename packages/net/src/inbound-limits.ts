/**
 * `Net`'s `inboundLimits` option: who may hold a node's inbound slots and pending handshakes, by
 * network prefix (@pyp2p/limits), with its defaults and validation.
 */
import { checkPrefixLengths, type PrefixLengths } from '@pyp2p/limits'
import { INBOUND_IDLE_EVICT_MS } from './constants.js'
import { NetError } from './errors.js'

/**
 * Who may hold a node's inbound slots and pending handshakes, by network (@pyp2p/limits' prefixes), so
 * one cheap address block cannot lock everyone else out.
 */
export interface InboundLimits {
  /** Inbound connections one IP (an IPv6 /64) may hold. Default half of `maxInbound`, rounded up. */
  maxPerIp?: number
  /** Inbound connections one network (an IPv4 /24, an IPv6 /48) may hold. Default half of `maxInbound`, rounded up. */
  maxPerPrefix?: number
  /**
   * Handshakes pending at once from one network (and from one IP). Default `maxPendingHandshakes`
   * (no cap of its own): when all are pending, a newcomer from a network holding less than its share
   * (`maxPendingHandshakes` / networks pending) closes the oldest pending handshake of the network
   * holding the most, so one network flooding silent sockets never locks the others out.
   */
  maxPendingPerPrefix?: number
  /**
   * When the inbound slots are full, a connection that sent nothing (no line, no keep-alive answer)
   * for this long, ms, may be evicted for a newcomer: from the network holding the most slots first
   * (@pyp2p/limits' `FairTable`), the longest silent first. 0: any connection. Default 20,000.
   */
  idleEvictAfter?: number
  /** Prefix lengths, bits. Default IPv4 /24, IPv6 /64 as one IP and /48 as one network. */
  prefixLengths?: Partial<PrefixLengths>
}

export interface ResolvedInboundLimits {
  maxPerIp: number
  maxPerPrefix: number
  maxPendingPerPrefix: number
  idleEvictAfter: number
  prefixLengths: PrefixLengths
}

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw NetError.INVALID_OPTION(name, v, `an integer ${min}..${max}`)
  return v
}

/** Fills in the defaults (half of `maxInbound`, all of `maxPendingHandshakes`); throws `ERR_INVALID_OPTION`. */
export function resolveInboundLimits(
  l: InboundLimits,
  maxInbound: number,
  maxPending: number,
): ResolvedInboundLimits {
  const half = Math.max(1, Math.ceil(maxInbound / 2))
  let prefixLengths: PrefixLengths
  try {
    prefixLengths = checkPrefixLengths(l.prefixLengths)
  } catch {
    throw NetError.INVALID_OPTION(
      'inboundLimits.prefixLengths',
      l.prefixLengths,
      'IPv4 1..32, IPv6 1..128 bits',
    )
  }
  return {
    maxPerIp: int('inboundLimits.maxPerIp', l.maxPerIp, half, 1, 100_000),
    maxPerPrefix: int('inboundLimits.maxPerPrefix', l.maxPerPrefix, half, 1, 100_000),
    maxPendingPerPrefix: int(
      'inboundLimits.maxPendingPerPrefix',
      l.maxPendingPerPrefix,
      maxPending,
      1,
      100_000,
    ),
    idleEvictAfter: int(
      'inboundLimits.idleEvictAfter',
      l.idleEvictAfter,
      INBOUND_IDLE_EVICT_MS,
      0,
      86_400_000,
    ),
    prefixLengths,
  }
}
