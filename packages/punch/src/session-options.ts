/**
 * Options, events and the timer seam of {@link RendezvousSession}; every default is a constant in
 * constants.ts.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import { PunchError } from './errors.js'
import type { RendezvousClient } from './rendezvous-client.js'
import type { ServerAddress } from './rendezvous-connect.js'

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
  /** Bound on `leave()`'s `CLEAR` and `QUIT`, ms. Default `SESSION_LEAVE_TIMEOUT_MS`. */
  leaveTimeout?: number
  /** Timers for keep-alive and back-off. Default Node's. */
  timers?: SessionTimers
}

export type RegistrationKind = 'passive' | 'simultaneous'

export interface Registration {
  kind: RegistrationKind
  port: number
  maxInbound: number
}

export interface RendezvousSessionEvents {
  /** A new connection to a server (at first, and after every reconnect): attach challenge answering here. */
  client: [client: RendezvousClient, server: Required<ServerAddress>]
  /** Registered (by `register()`, or again by itself on a new connection after a drop). */
  registered: [info: Registration & { observed: { ip: string; port: number } }]
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
