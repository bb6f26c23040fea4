/**
 * How a {@link RendezvousSession} picks and reaches a server: the order it tries its servers in (the
 * preferred, first one always first, so a session returns to it as soon as it answers; then the one
 * that answered last; then the rest in list order), and the loop that connects to the first that
 * answers and accepts what the session needs on it (its registration).
 */
import type { NodeIdentity } from '@pyp2p/identity'
import createDebug from 'debug'
import { PunchError } from './errors.js'
import { RendezvousClient } from './rendezvous-client.js'
import type { ServerAddress } from './rendezvous-connect.js'

const log = createDebug('pyp2p:punch:session')

export type Server = Required<ServerAddress>

/** `host:port`, the way events and errors name a server. */
export function whereOf(server: Server): string {
  return `${server.host}:${server.port}`
}

/** Preferred (first) server, then `current`, then the others, each once. */
export function serverOrder(servers: readonly Server[], current: Server | undefined): Server[] {
  const all = current === undefined ? [...servers] : [servers[0] ?? current, current, ...servers]
  const seen = new Set<string>()
  return all.filter((s) => {
    const where = whereOf(s)
    if (seen.has(where)) return false
    seen.add(where)
    return true
  })
}

export interface DialOptions {
  nodeId: string
  identity: NodeIdentity | undefined
  localAddress: string | undefined
  connectTimeout: number
  /** Once connected, how long to wait for the server's `HELLO`, ms. */
  helloTimeout: number
  signal: AbortSignal
}

/** Connects to one server and reads its `HELLO`. */
export function dialServer(server: Server, o: DialOptions): Promise<RendezvousClient> {
  return RendezvousClient.connect({
    server,
    nodeId: o.nodeId,
    ...(o.identity !== undefined && { identity: o.identity }),
    timeout: o.connectTimeout,
    helloTimeout: o.helloTimeout,
    signal: o.signal,
    ...(o.localAddress !== undefined && { localAddress: o.localAddress }),
  })
}

/**
 * The first server of `order` that answers and on which `prepare` (e.g. registering) succeeds; a
 * connection `prepare` failed on is closed. Throws `ERR_SERVER_UNREACHABLE` naming every server tried
 * (the last failure as cause), `ERR_ABORTED` when `o.signal` fires.
 */
export async function dialFirst(
  order: readonly Server[],
  o: DialOptions,
  prepare: (client: RendezvousClient, server: Server) => Promise<void>,
): Promise<{ client: RendezvousClient; server: Server }> {
  const tried: string[] = []
  let last: unknown
  for (const server of order) {
    const where = whereOf(server)
    tried.push(where)
    if (o.signal.aborted) throw PunchError.ABORTED('coordination', o.signal.reason)
    try {
      const client = await dialServer(server, o)
      try {
        await prepare(client, server)
      } catch (err) {
        client.close() // e.g. a connection without our registration is no use to a registered node
        throw err
      }
      return { client, server }
    } catch (err) {
      if (o.signal.aborted) throw PunchError.ABORTED('coordination', o.signal.reason)
      log('rendezvous server %s: %s', where, (err as Error).message)
      last = err
    }
  }
  throw PunchError.SERVER_UNREACHABLE('coordination', tried.join(', '), last)
}
