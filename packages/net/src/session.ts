/**
 * The Net's use of @pyp2p/punch's `RendezvousSession` (the one rendezvous client: server failover and
 * return to the preferred server, keep-alive, registration kept, refreshed before it expires and
 * repeated after a reconnect with jittered back-off, `CLEAR` + `QUIT` on leave), with its failures
 * turned into the Net's own error codes and its `server:*` events passed on to the Net.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import {
  isPunchError,
  RendezvousSession,
  type RendezvousSessionEvents,
  SESSION_PREFERRED_PROBE_MS,
  SESSION_REFRESH_FRACTION,
  SESSION_REGISTRATION_LIFETIME_MS,
  SESSION_RETRY_MAX_MS,
  SESSION_RETRY_MIN_MS,
} from '@pyp2p/punch'
import type { NodeEntry } from '@pyp2p/rendezvous-protocol'
import {
  RENDEZVOUS_KEEPALIVE_MS,
  SERVER_CONNECT_TIMEOUT_MS,
  SERVER_REPLY_TIMEOUT_MS,
  STOP_SERVER_TIMEOUT_MS,
} from './constants.js'
import { NetError } from './errors.js'
import type { ServerAddress } from './options.js'

export type { NodeEntry } from '@pyp2p/rendezvous-protocol'

/** Most nodes one `BOOTSTRAP` asks for (the server's own cap). */
const MAX_BOOTSTRAP_COUNT = 100

/** With `identity` (the node's key, whose id is `nodeId`), the commands that act as the node are signed. */
export function createSession(
  servers: Required<ServerAddress>[],
  nodeId: string,
  identity?: NodeIdentity,
): RendezvousSession {
  return new RendezvousSession({
    servers,
    nodeId,
    ...(identity !== undefined && { identity }),
    connectTimeout: SERVER_CONNECT_TIMEOUT_MS,
    replyTimeout: SERVER_REPLY_TIMEOUT_MS,
    keepAliveMs: RENDEZVOUS_KEEPALIVE_MS,
    leaveTimeout: STOP_SERVER_TIMEOUT_MS,
  })
}

/** Why a session call failed, as a NetError: `ERR_ABORTED`, else `otherwise(err)`. */
function netError(err: unknown, signal: AbortSignal, otherwise: (err: unknown) => NetError): NetError {
  if (signal.aborted) return NetError.ABORTED(signal.reason)
  if (isPunchError(err) && err.code === 'ERR_ABORTED') return NetError.ABORTED(err.cause)
  return otherwise(err)
}

const noServer = (servers: Required<ServerAddress>[]) => (err: unknown) =>
  NetError.NO_SERVER(
    servers.map((s) => `${s.host}:${s.port}`),
    err,
  )

/** Connects to the first server that answers; `ERR_NO_SERVER` listing what was tried, `ERR_ABORTED`. */
export async function openSession(
  session: RendezvousSession,
  servers: Required<ServerAddress>[],
  signal: AbortSignal,
): Promise<void> {
  try {
    await session.open({ signal })
  } catch (err) {
    throw netError(err, signal, noServer(servers))
  }
}

/** `BOOTSTRAP n`: up to n passive nodes the server knows. */
export async function listNodes(
  session: RendezvousSession,
  servers: Required<ServerAddress>[],
  count: number,
  signal: AbortSignal,
): Promise<readonly NodeEntry[]> {
  try {
    await session.open({ signal })
  } catch (err) {
    throw netError(err, signal, noServer(servers))
  }
  try {
    return await session.bootstrap(Math.max(1, Math.min(MAX_BOOTSTRAP_COUNT, count)), { signal })
  } catch (err) {
    throw netError(err, signal, noServer(servers))
  }
}

/** `PASSIVE READY` / `SIMULTANEOUS READY`, kept by the session; `ERR_ADVERTISE_FAILED`. */
export async function registerOn(
  session: RendezvousSession,
  servers: Required<ServerAddress>[],
  reg: { kind: 'passive' | 'simultaneous'; port: number; maxInbound: number },
  signal: AbortSignal,
): Promise<void> {
  try {
    await session.open({ signal })
  } catch (err) {
    throw netError(err, signal, noServer(servers))
  }
  try {
    await session.register(reg.kind, reg.port, reg.maxInbound, { signal })
  } catch (err) {
    throw netError(err, signal, (e) => NetError.ADVERTISE_FAILED(e))
  }
}

/** The session's events a Net passes on, with the session's payloads. */
export type ServerEvents = Pick<
  RendezvousSessionEvents,
  'server:lost' | 'server:restored' | 'server:failover'
>

const SERVER_EVENTS = ['server:lost', 'server:restored', 'server:failover'] as const

/** Re-emits the session's `server:*` events on `target`; returns the function that stops it. */
export function forwardServerEvents(
  session: RendezvousSession,
  target: { emit<K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]): boolean },
): () => void {
  const stops = SERVER_EVENTS.map((event) => {
    const listener = (...args: ServerEvents[typeof event]): void => {
      target.emit(event, ...args)
    }
    session.on(event, listener)
    return () => session.off(event, listener)
  })
  return () => {
    for (const stop of stops) stop()
  }
}

/** What the start report says about the servers: which answered, and how the session keeps its place. */
export function serverReasons(
  servers: Required<ServerAddress>[],
  answered: Required<ServerAddress>,
): string[] {
  const where = (s: Required<ServerAddress>): string => `${s.host}:${s.port}`
  const first = servers[0]
  const reasons: string[] = []
  if (first !== undefined && where(first) !== where(answered)) {
    reasons.push(
      `bootstrap server ${where(first)} did not answer: using ${where(answered)}; the preferred one is tried every ` +
        `${SESSION_PREFERRED_PROBE_MS / 1000} s and used again when it answers (event server:failover)`,
    )
  }
  const refreshH = (SESSION_REGISTRATION_LIFETIME_MS * SESSION_REFRESH_FRACTION) / 3_600_000
  reasons.push(
    `bootstrap session: when the connection to ${where(answered)} drops it reconnects and advertises again by ` +
      `itself (jittered back-off ${SESSION_RETRY_MIN_MS} ms to ${SESSION_RETRY_MAX_MS / 1000} s, over ` +
      `${servers.length} server${servers.length === 1 ? '' : 's'}; events server:lost, server:restored), ` +
      `and re-advertises every ${refreshH} h before the server's node lifetime ends`,
  )
  return reasons
}
