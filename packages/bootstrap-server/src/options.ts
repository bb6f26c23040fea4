/** The server's options, their defaults (constants.ts) and their validation. */
import type { RelayServerOptions } from '@pyp2p/dht-msg/server'
import { type Clock, systemClock } from '@pyp2p/limits'
import type { CircuitRelayOptions } from '@pyp2p/relay'
import { isServerId } from '@pyp2p/rendezvous-protocol'
import * as C from './constants.js'
import { BootstrapServerError } from './errors.js'
import { createDebugLogger, type Logger } from './logger.js'
import { randomServerId } from './ownership.js'
import { type PrefixLimitOptions, resolvePrefixLimits } from './prefix-options.js'
import type { RendezvousService } from './service.js'
import { parseRedisUrl } from './store/redis-url.js'

/** Limits per network prefix and the handshake timeout: see prefix-options.ts. */
export interface BootstrapServerOptions extends PrefixLimitOptions {
  /** Address to listen on. Default `0.0.0.0`. */
  readonly host?: string
  /** Port to listen on; 0 picks a free one. Default 8000. */
  readonly port?: number
  /** Accept backlog (capped by the kernel's somaxconn). Default 4,096. */
  readonly backlog?: number
  /** Connections at once. Default 20,000. */
  readonly maxConnections?: number
  /** Connections from one IP. Default 256. */
  readonly maxConnectionsPerIp?: number
  /** Registered nodes in total. Default 100,000. */
  readonly maxNodes?: number
  /** Registered nodes per IP. Default 256. */
  readonly maxNodesPerIp?: number
  /** Pending punches per target node. Default 100 (pyp2p). */
  readonly maxCandidatesPerNode?: number
  /** Pending punches one connection may start. Default 16. */
  readonly maxPunchesPerConnection?: number
  /** Longest client line. Default 1,024. */
  readonly maxLineLength?: number
  /** Unsent bytes held for a client that does not read. Default 64 KiB. */
  readonly maxSendBuffer?: number
  /** Close non-simultaneous connections silent for this long (ms). Default 60,000. */
  readonly idleTimeoutMs?: number
  /** Time a target has to ACCEPT/REJECT a CHALLENGE (ms). Default 10,000. */
  readonly challengeTimeoutMs?: number
  /** How long a registration lives (ms). Default 24 h (pyp2p). */
  readonly nodeLifetimeMs?: number
  /** Period of the sweep timer (ms). Default 1,000. */
  readonly sweepIntervalMs?: number
  /** Sustained lines per second per connection. Default 50. */
  readonly lineRate?: number
  /** Burst of lines per connection. Default 100. */
  readonly lineBurst?: number
  /** Added to both FIGHT delays (ms). Default 10. */
  readonly fightMarginMs?: number
  /** RTT assumed for a side not measured yet (ms). Default 100. */
  readonly defaultRttMs?: number
  /** TCP keep-alive idle time on client connections (ms). Default 60,000. */
  readonly keepAliveDelayMs?: number
  /**
   * Hand out loopback addresses in NODES. Default: only when the server itself listens on a loopback
   * address (tests, local demos); never on a public server.
   */
  readonly allowLoopback?: boolean
  /**
   * `BOOTSTRAP` lists simultaneous nodes too (`s:` entries), so nodes behind predictable NATs can punch
   * to each other (issue 18). Default true; false lists passive nodes only (the original's server).
   */
  readonly bootstrapSimultaneous?: boolean
  /** Where logs go. Default: the `pyp2p:bootstrap-server` debug namespace. */
  readonly logger?: Logger
  /** Extra command families handled on the same connections (besides the embedded relay). */
  readonly services?: readonly RendezvousService[]
  /**
   * The embedded @pyp2p/dht-msg relay on the same port: `true` (default) with its default limits, an
   * object of `RelayServerOptions` to tune it, or `false` for none.
   */
  readonly relay?: boolean | RelayServerOptions
  /**
   * The embedded @pyp2p/relay circuit relay on the same port (`CIRCUIT ...` lines, `PYP2P-CIRCUIT/1` in
   * `HELLO`): `true` (default) with its default limits, an object of `CircuitRelayOptions` to tune
   * them, or `false` for none. Nodes that cannot be reached hold a reservation here; others reach them
   * through a circuit when no other method works.
   */
  readonly circuitRelay?: boolean | CircuitRelayOptions
  /** Connect timeout of a dial-back (`CHECK`), ms. Default 3,000. */
  readonly dialBackTimeoutMs?: number
  /** `CHECK`s one IP may start in a burst. Default 5. */
  readonly checkBurst?: number
  /** After the burst, one `CHECK` per IP per this many ms. Default 10,000. */
  readonly checkIntervalMs?: number
  /** Dial-backs running at once on the whole server. Default 256. */
  readonly maxPendingChecks?: number
  /**
   * Where everything that expires or rate-limits reads the time (node lifetime, challenge and idle
   * timeouts, flood control, `CHECK` rate), and the embedded relay too unless its own options name a
   * clock. Default `systemClock` of @pyp2p/limits. Tests pass a `manualClock()`, `advance()` it and
   * call `server.sweep()`; the sweep timer itself stays a real interval.
   */
  readonly clock?: Clock
  /**
   * Serve clients that sign nothing (v1 clients without keys): they may register ids nobody holds with
   * a proof, from the address that holds them. Their entries are unproven (`:u` in `NODES ... MARKED`).
   * Default false: every `READY`, `CLEAR <id> <token>` and `CANDIDATE` must carry a proof (issue 17).
   */
  readonly allowUnsigned?: boolean
  /**
   * The id this server announces in `HELLO ... server=<id>` and every proof signs: 1..64 of
   * `[A-Za-z0-9_.:-]`, e.g. its public `host:port`. Default: random per process.
   */
  readonly serverId?: string
  /**
   * Scale-out (docs/scale-out.md): `redis://[user:password@]host:port[/db]` of a Redis that makes every
   * instance given the same URL one network. Default: none (one process, in memory, Redis never loaded).
   */
  readonly redis?: string
  /** Longest wait for Redis before a command is served from local state (ms). Default 250. */
  readonly redisTimeoutMs?: number
  /** Time to reach Redis in `listen()` before it throws `ERR_REDIS_UNAVAILABLE` (ms). Default 3,000. */
  readonly redisConnectTimeoutMs?: number
  /** TTL in Redis of a simultaneous node's entry, refreshed while it is connected (ms). Default 30,000. */
  readonly redisEntryTtlMs?: number
  /** Prefix of every Redis key and channel (instances of one network share it). Default `pyp2p:{bs}:`. */
  readonly redisKeyPrefix?: string
  /**
   * BOOTSTRAP lists from a pool sampled from Redis, at most this old while Redis answers (ms): a node
   * cleared at another instance may be listed this long more. 0 = ask Redis every time. Default 1,000.
   */
  readonly redisListingRefreshMs?: number
  /** Entries of each node type in that pool (1..4,096). Default 256. */
  readonly redisListingSize?: number
}

export type ResolvedOptions = Required<Omit<BootstrapServerOptions, 'allowLoopback' | 'redis'>> & {
  readonly allowLoopback: boolean | undefined
  readonly redis: string | undefined
}

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw BootstrapServerError.INVALID_OPTION(name, v, `an integer ${min}..${max}`)
  }
  return v
}

const DAY = 24 * 60 * 60 * 1000

function bool(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw BootstrapServerError.INVALID_OPTION(name, value, 'true or false')
  return value
}

function relayOption(relay: BootstrapServerOptions['relay']): boolean | RelayServerOptions {
  if (relay === undefined) return true
  if (typeof relay === 'boolean' || (typeof relay === 'object' && relay !== null)) return relay
  throw BootstrapServerError.INVALID_OPTION('relay', relay, 'a boolean or RelayServerOptions')
}

function circuitRelayOption(relay: BootstrapServerOptions['circuitRelay']): boolean | CircuitRelayOptions {
  if (relay === undefined) return true
  if (typeof relay === 'boolean' || (typeof relay === 'object' && relay !== null)) return relay
  throw BootstrapServerError.INVALID_OPTION('circuitRelay', relay, 'a boolean or CircuitRelayOptions')
}

function clockOption(clock: Clock | undefined): Clock {
  if (clock === undefined) return systemClock
  if (typeof clock?.now !== 'function')
    throw BootstrapServerError.INVALID_OPTION('clock', clock, 'a { now() }')
  return clock
}

function serverIdOption(id: string | undefined): string {
  if (id === undefined) return randomServerId()
  if (!isServerId(id)) throw BootstrapServerError.INVALID_OPTION('serverId', id, '1..64 of [A-Za-z0-9_.:-]')
  return id
}

/** Fills in defaults and checks every value; throws `ERR_INVALID_OPTION`. */
export function resolveOptions(o: BootstrapServerOptions = {}): ResolvedOptions {
  const host = o.host ?? C.DEFAULT_HOST
  if (typeof host !== 'string' || host === '')
    throw BootstrapServerError.INVALID_OPTION('host', host, 'an address')
  const services = o.services ?? []
  for (const s of services) {
    if (typeof s?.handleLine !== 'function' || !Array.isArray(s.commands)) {
      throw BootstrapServerError.INVALID_OPTION('services', s?.name, 'objects with commands and handleLine')
    }
    int(`services[${s.name}].maxLineLength`, s.maxLineLength, 1, 1, 16 * 1024 * 1024)
  }
  return {
    host,
    port: int('port', o.port, C.DEFAULT_PORT, 0, 65_535),
    backlog: int('backlog', o.backlog, C.DEFAULT_BACKLOG, 1, 1_000_000),
    maxConnections: int('maxConnections', o.maxConnections, C.DEFAULT_MAX_CONNECTIONS, 1, 10_000_000),
    maxConnectionsPerIp: int(
      'maxConnectionsPerIp',
      o.maxConnectionsPerIp,
      C.DEFAULT_MAX_CONNECTIONS_PER_IP,
      1,
      10_000_000,
    ),
    maxNodes: int('maxNodes', o.maxNodes, C.DEFAULT_MAX_NODES, 1, 100_000_000),
    maxNodesPerIp: int('maxNodesPerIp', o.maxNodesPerIp, C.DEFAULT_MAX_NODES_PER_IP, 1, 100_000_000),
    maxCandidatesPerNode: int(
      'maxCandidatesPerNode',
      o.maxCandidatesPerNode,
      C.DEFAULT_MAX_CANDIDATES_PER_NODE,
      1,
      100_000,
    ),
    maxPunchesPerConnection: int(
      'maxPunchesPerConnection',
      o.maxPunchesPerConnection,
      C.DEFAULT_MAX_PUNCHES_PER_CONNECTION,
      1,
      100_000,
    ),
    maxLineLength: int('maxLineLength', o.maxLineLength, C.DEFAULT_MAX_LINE_LENGTH, 64, 1024 * 1024),
    maxSendBuffer: int('maxSendBuffer', o.maxSendBuffer, C.DEFAULT_MAX_SEND_BUFFER, 16 * 1024, 1 << 30),
    idleTimeoutMs: int('idleTimeoutMs', o.idleTimeoutMs, C.DEFAULT_IDLE_TIMEOUT_MS, 1, DAY),
    challengeTimeoutMs: int(
      'challengeTimeoutMs',
      o.challengeTimeoutMs,
      C.DEFAULT_CHALLENGE_TIMEOUT_MS,
      1,
      DAY,
    ),
    nodeLifetimeMs: int('nodeLifetimeMs', o.nodeLifetimeMs, C.DEFAULT_NODE_LIFETIME_MS, 1, 365 * DAY),
    sweepIntervalMs: int(
      'sweepIntervalMs',
      o.sweepIntervalMs,
      C.DEFAULT_SWEEP_INTERVAL_MS,
      1,
      60 * 60 * 1000,
    ),
    lineRate: int('lineRate', o.lineRate, C.DEFAULT_LINE_RATE, 1, 1_000_000),
    lineBurst: int('lineBurst', o.lineBurst, C.DEFAULT_LINE_BURST, 1, 1_000_000),
    fightMarginMs: int('fightMarginMs', o.fightMarginMs, C.DEFAULT_FIGHT_MARGIN_MS, 0, 10_000),
    defaultRttMs: int('defaultRttMs', o.defaultRttMs, C.DEFAULT_RTT_MS, 0, 10_000),
    keepAliveDelayMs: int('keepAliveDelayMs', o.keepAliveDelayMs, C.DEFAULT_KEEPALIVE_DELAY_MS, 0, DAY),
    allowLoopback: o.allowLoopback,
    bootstrapSimultaneous: bool('bootstrapSimultaneous', o.bootstrapSimultaneous, true),
    logger: o.logger ?? createDebugLogger(),
    services,
    relay: relayOption(o.relay),
    circuitRelay: circuitRelayOption(o.circuitRelay),
    dialBackTimeoutMs: int(
      'dialBackTimeoutMs',
      o.dialBackTimeoutMs,
      C.DEFAULT_DIAL_BACK_TIMEOUT_MS,
      1,
      60_000,
    ),
    checkBurst: int('checkBurst', o.checkBurst, C.DEFAULT_CHECK_BURST, 1, 1_000_000),
    checkIntervalMs: int('checkIntervalMs', o.checkIntervalMs, C.DEFAULT_CHECK_INTERVAL_MS, 1, DAY),
    maxPendingChecks: int('maxPendingChecks', o.maxPendingChecks, C.DEFAULT_MAX_PENDING_CHECKS, 1, 1_000_000),
    clock: clockOption(o.clock),
    allowUnsigned: bool('allowUnsigned', o.allowUnsigned, false),
    serverId: serverIdOption(o.serverId),
    redis: o.redis === undefined ? undefined : parseRedisUrl(o.redis),
    redisTimeoutMs: int('redisTimeoutMs', o.redisTimeoutMs, C.DEFAULT_REDIS_TIMEOUT_MS, 1, 60_000),
    redisConnectTimeoutMs: int(
      'redisConnectTimeoutMs',
      o.redisConnectTimeoutMs,
      C.DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
      1,
      600_000,
    ),
    redisEntryTtlMs: int('redisEntryTtlMs', o.redisEntryTtlMs, C.DEFAULT_REDIS_ENTRY_TTL_MS, 3, DAY),
    redisKeyPrefix: o.redisKeyPrefix ?? C.DEFAULT_REDIS_KEY_PREFIX,
    redisListingRefreshMs: int(
      'redisListingRefreshMs',
      o.redisListingRefreshMs,
      C.DEFAULT_REDIS_LISTING_REFRESH_MS,
      0,
      DAY,
    ),
    redisListingSize: int('redisListingSize', o.redisListingSize, C.DEFAULT_REDIS_LISTING_SIZE, 1, 4_096),
    ...resolvePrefixLimits(o),
  }
}
