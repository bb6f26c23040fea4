/**
 * Options, events and the timer seam of {@link RendezvousSession}; every default is a constant in
 * constants.ts.
 */
import { performance } from 'node:perf_hooks'
import type { NodeIdentity } from '@pyp2p/identity'
import {
  CONNECT_TIMEOUT_MS,
  REPLY_TIMEOUT_MS,
  SESSION_KEEPALIVE_MS,
  SESSION_LEAVE_TIMEOUT_MS,
  SESSION_MAX_TIMER_MS,
  SESSION_PREFERRED_PROBE_MS,
  SESSION_REFRESH_FRACTION,
  SESSION_REGISTRATION_LIFETIME_MS,
  SESSION_RETRY_JITTER,
  SESSION_RETRY_MAX_MS,
  SESSION_RETRY_MIN_MS,
} from './constants.js'
import { PunchError } from './errors.js'
import type { RendezvousClient } from './rendezvous-client.js'
import type { ServerAddress } from './rendezvous-connect.js'
import type { BackoffOptions } from './session-backoff.js'
import type { DialOptions } from './session-connect.js'

/** `setTimeout`/`clearTimeout`, injectable so back-off and keep-alive run on a test's own clock. */
export interface SessionTimers {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers. */
export const systemTimers: SessionTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export interface RendezvousSessionOptions {
  /** Rendezvous (bootstrap) servers, tried in this order; the one that answered is tried first later. */
  servers: readonly ServerAddress[]
  /** This node's id: 40 hex characters (one registration per id on a server). */
  nodeId: string
  /**
   * The node's key (`@pyp2p/identity`, `nodeId` must be its id): the registration and the `CLEAR` on
   * leave are signed for servers that require proof of ownership (the default server does; without an
   * identity it answers `ERR_SIGNATURE_REQUIRED`). Default: none.
   */
  identity?: NodeIdentity
  /** Local address to connect from. Default: the kernel's choice. */
  localAddress?: string
  /** Connecting to one server and reading its `HELLO`, ms. Default `CONNECT_TIMEOUT_MS` (5 s). */
  connectTimeout?: number
  /** One request/reply, ms. Default `REPLY_TIMEOUT_MS` (10 s). */
  replyTimeout?: number
  /** `PING` interval on an open connection, ms. Default `SESSION_KEEPALIVE_MS` (25 s). */
  keepAliveMs?: number
  /** First reconnect delay after a registered connection dropped, ms. Default `SESSION_RETRY_MIN_MS`. */
  retryMinMs?: number
  /** Largest reconnect delay (the delay doubles up to it), ms. Default `SESSION_RETRY_MAX_MS`. */
  retryMaxMs?: number
  /** Fraction (0..1) taken at random off each reconnect delay. Default `SESSION_RETRY_JITTER` (0.5). */
  retryJitter?: number
  /** Uniform random numbers in [0, 1) for the jitter. Default `Math.random`. */
  random?: () => number
  /** While on a fallback server, how often to try the preferred (first) one, ms. Default 10 s. */
  preferredProbeMs?: number
  /**
   * How long the server keeps a registration, ms; it is repeated after half of it. A server that
   * announces its lifetime (`lifetime=` in its `HELLO`) is believed, and this option then only shortens
   * it. Default `SESSION_REGISTRATION_LIFETIME_MS` (24 h, bootstrap-server's default `--node-lifetime`)
   * for servers that do not say.
   */
  registrationLifetimeMs?: number
  /** Bound on `leave()`'s `CLEAR` and `QUIT`, ms. Default `SESSION_LEAVE_TIMEOUT_MS`. */
  leaveTimeout?: number
  /** Timers for keep-alive, back-off, probes and refreshes. Default Node's. */
  timers?: SessionTimers
  /** Milliseconds of a monotonic clock, for `downMs` in events. Default `performance.now`. */
  now?: () => number
}

/** The options every timer and wait of a session runs on, defaults filled in. */
export interface ResolvedSessionTuning {
  connectTimeout: number
  replyTimeout: number
  keepAliveMs: number
  leaveTimeout: number
  backoff: BackoffOptions
  /** What every connection to a server is opened with (besides the node id and the session's signal). */
  dial: Pick<DialOptions, 'identity' | 'localAddress' | 'connectTimeout' | 'helloTimeout'>
  preferredProbeMs: number
  /** The `registrationLifetimeMs` option as given (undefined: not given). */
  lifetimeMs: number | undefined
  timers: SessionTimers
  now: () => number
}

export function resolveSessionTuning(o: RendezvousSessionOptions): ResolvedSessionTuning {
  const retryMinMs = o.retryMinMs ?? SESSION_RETRY_MIN_MS
  const retryJitter = o.retryJitter ?? SESSION_RETRY_JITTER
  if (!(retryJitter >= 0 && retryJitter <= 1)) throw PunchError.INVALID_ARGUMENT('retryJitter: 0..1')
  const lifetime = o.registrationLifetimeMs
  if (lifetime !== undefined && !(lifetime > 0)) {
    throw PunchError.INVALID_ARGUMENT('registrationLifetimeMs: more than 0')
  }
  const connectTimeout = o.connectTimeout ?? CONNECT_TIMEOUT_MS
  const replyTimeout = o.replyTimeout ?? REPLY_TIMEOUT_MS
  const helloTimeout = Math.max(connectTimeout, replyTimeout)
  return {
    connectTimeout,
    replyTimeout,
    keepAliveMs: o.keepAliveMs ?? SESSION_KEEPALIVE_MS,
    leaveTimeout: o.leaveTimeout ?? SESSION_LEAVE_TIMEOUT_MS,
    backoff: {
      minMs: retryMinMs,
      maxMs: Math.max(retryMinMs, o.retryMaxMs ?? SESSION_RETRY_MAX_MS),
      jitter: retryJitter,
      random: o.random ?? Math.random,
    },
    // a server that accepted us but is slow to greet (a restart under a herd) gets the reply timeout
    dial: { identity: o.identity, localAddress: o.localAddress, connectTimeout, helloTimeout },
    preferredProbeMs: o.preferredProbeMs ?? SESSION_PREFERRED_PROBE_MS,
    lifetimeMs: lifetime,
    timers: o.timers ?? systemTimers,
    now: o.now ?? (() => performance.now()),
  }
}

/**
 * When to repeat a registration, ms: after half the lifetime the server announced (`announcedMs`, its
 * `HELLO`'s `lifetime=`; never longer than the `registrationLifetimeMs` option), or half the option's
 * (default 24 h) when it announced none. Bounded by what a timer can wait.
 */
export function refreshDelay(t: ResolvedSessionTuning, announcedMs: number | undefined): number {
  const lifetime =
    announcedMs === undefined
      ? (t.lifetimeMs ?? SESSION_REGISTRATION_LIFETIME_MS)
      : Math.min(announcedMs, t.lifetimeMs ?? announcedMs)
  return Math.min(SESSION_MAX_TIMER_MS, Math.max(1, Math.floor(lifetime * SESSION_REFRESH_FRACTION)))
}

export type RegistrationKind = 'passive' | 'simultaneous'

export interface Registration {
  kind: RegistrationKind
  port: number
  maxInbound: number
}

/**
 * Why a `READY` was sent: `register()`, again on a new connection after a drop (`reconnect`), repeated
 * before the server's node lifetime ends (`refresh`), or on the preferred server it returns to (`failover`).
 */
export type RegisterReason = 'register' | 'reconnect' | 'refresh' | 'failover'

export interface RendezvousSessionEvents {
  /** A new connection to a server (at first, and after every reconnect): attach challenge answering here. */
  client: [client: RendezvousClient, server: Required<ServerAddress>]
  /** Registered (by `register()`, or again by itself: after a drop, before expiry, on a failover). */
  registered: [info: Registration & { observed: { ip: string; port: number }; reason: RegisterReason }]
  /**
   * The connection to `server` (`host:port`) was lost: closed by the server or the network, or found
   * dead (an unanswered keep-alive `PING`). A registered session reconnects by itself.
   */
  'server:lost': [info: { server: string; reason: string; error?: Error }]
  /** Connected (and registered again, when registered) after a loss, `downMs` later. */
  'server:restored': [info: { server: string; previous: string; downMs: number; reason: string }]
  /**
   * Moved from one server to another: after a loss to the next that answered (`preferred: false`), or
   * back to the preferred (first) server once it answers again (`preferred: true`).
   */
  'server:failover': [info: { from: string; to: string; reason: string; preferred: boolean }]
  /** The connection holding our registration dropped: reconnecting with back-off. */
  unregistered: [info: { error?: Error }]
  /** A reconnect attempt failed; the next one follows after `delayMs`. */
  'retry-failed': [info: { error: Error; delayMs: number }]
}

/** Checks what the session cannot work without; returns the node id in lower case. */
export function checkSessionOptions(options: RendezvousSessionOptions): string {
  if (options.servers.length === 0) throw PunchError.INVALID_ARGUMENT('servers: at least one server')
  const nodeId = options.nodeId.toLowerCase()
  if (options.identity !== undefined && options.identity.nodeId !== nodeId) {
    throw PunchError.INVALID_ARGUMENT(`identity is node ${options.identity.nodeId}, not node ${nodeId}`)
  }
  return nodeId
}
