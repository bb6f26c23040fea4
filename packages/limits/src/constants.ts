/**
 * Every default of @pyp2p/limits' prefix limits, with where it comes from. A server names its own
 * limits from these (bootstrap-server's options, the relay's) and may tune each.
 */

/**
 * IPv4 addresses are grouped by /24: the smallest block routed between networks on the internet (longer
 * prefixes are filtered by most BGP speakers) and so the block one party rents cheaply. Bitcoin Core's
 * netgroups use /16 for IPv4; a /24 is stricter towards attackers and kinder to big ISPs' many users.
 */
export const DEFAULT_IPV4_PREFIX_LENGTH = 24

/**
 * An IPv6 /64 counts as one address: it is one link (RFC 4291 interface ids are 64 bits, SLAAC hands a
 * host any of 2^64 addresses), so a limit per IPv6 address would limit nothing. go-libp2p's resource
 * manager goes further and treats a /56 as one address.
 */
export const DEFAULT_IPV6_HOST_LENGTH = 64

/**
 * IPv6 prefixes are grouped by /48: what one site is given (RFC 6177 recommends /48 to /56 per site);
 * go-libp2p's resource manager limits connections per /48 too (64 by default, 8 times its /56 limit).
 */
export const DEFAULT_IPV6_PREFIX_LENGTH = 48

/**
 * Entries of a table held by one IP (an IPv6 /64). go-libp2p's resource manager allows 8 connections per
 * IPv4 address between peers; a rendezvous server sees whole NATs (a carrier-grade NAT is thousands of
 * users) behind one address, so 256, bootstrap-server's per-IP limit before prefixes existed.
 */
export const DEFAULT_MAX_PER_IP = 256

/**
 * Entries held by one prefix (an IPv4 /24, an IPv6 /48): four busy NAT addresses' worth. go-libp2p's
 * ratio of /48 to /56 limits is 8; 4 keeps one prefix at 5 % of a 20,000-entry table, so twenty
 * attacking prefixes are needed before fairness (eviction from the largest prefix) even starts.
 */
export const DEFAULT_MAX_PER_PREFIX = 1024

/** (limit, prefix) pairs a `LimitCounter` keeps counts for; the least recently hit is forgotten first. */
export const DEFAULT_MAX_COUNTED_KEYS = 1024

/**
 * A `LimitCounter` says "log this" for a (limit, prefix) pair at most once per this many ms: an attack
 * at full rate must not turn into a log flood (the count in `stats()` keeps every hit).
 */
export const DEFAULT_LOG_INTERVAL_MS = 10_000
