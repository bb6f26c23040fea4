/**
 * Hole punching for `net.unl.connect()` between two simultaneous nodes: @pyp2p/unl's `Puncher` seam
 * implemented with @pyp2p/punch through our bootstrap server, and the other half, answering the
 * server's challenges on our registration connection. Simultaneous nodes exist only in `direct` nets
 * (as in the original); this path is exercised by the NAT lab, not by loopback tests.
 */
import type { LineSocket } from '@pyp2p/framing'
import { acceptChallenges, type NatBehaviour, punch } from '@pyp2p/punch'
import type { Puncher, PunchRequest } from '@pyp2p/unl'
import type createDebug from 'debug'
import type { ServerAddress } from './options.js'
import type { RendezvousSession } from './rendezvous-session.js'

export class RendezvousPuncher implements Puncher {
  readonly #server: () => Required<ServerAddress> | undefined
  readonly #nodeId: string
  readonly #nat: () => NatBehaviour | undefined

  constructor(
    server: () => Required<ServerAddress> | undefined,
    nodeId: string,
    nat: () => NatBehaviour | undefined,
  ) {
    this.#server = server
    this.#nodeId = nodeId
    this.#nat = nat
  }

  async punch(request: PunchRequest): Promise<LineSocket> {
    const server = this.#server()
    if (server === undefined) throw new Error('no bootstrap server to coordinate the punch through')
    const nat = this.#nat()
    const result = await punch({
      server,
      nodeId: this.#nodeId,
      target: request.theirs.nodeId,
      signal: request.signal,
      ...(nat !== undefined && { nat }),
    })
    return result.connection
  }
}

/**
 * Answers hole-punch challenges on our registration connection, and on the next one after a reconnect
 * (the session calls back with every new connection). The punched connections join the Net.
 */
export class ChallengeAnswerer {
  readonly #stops: (() => void)[] = []

  constructor(
    session: RendezvousSession,
    nat: NatBehaviour | undefined,
    signal: AbortSignal,
    log: createDebug.Debugger,
    onConnection: (connection: LineSocket, nodeId: string) => void,
  ) {
    session.onClient((client) => {
      const server = session.server
      if (server === undefined) return
      this.#stops.push(
        acceptChallenges({
          client,
          server,
          signal,
          ...(nat !== undefined && { nat }),
          onConnection: (result) => onConnection(result.connection, result.peer.nodeId),
          onError: (err) => log('hole punch for a challenger failed: %s', err.message),
        }),
      )
    })
  }

  stop(): void {
    for (const stop of this.#stops.splice(0)) stop()
  }
}
