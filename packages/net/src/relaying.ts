/**
 * A Net's part in circuit relaying (@pyp2p/relay, issue 14): the relayer `connect()` falls back to
 * (circuits through the relay a peer's UNL names, else our bootstrap server's, else `reserveAt`); for
 * a node that cannot be dialled (not passive), a reservation at `circuitRelay.reserveAt` or else the
 * bootstrap server, so others can reach it through a circuit (its UNL then names that relay); and for
 * a passive node with `circuitRelay.serve`, a relay of its own for others (relay-host.ts). A relay that
 * refuses the reservation (none there, or a limit) leaves the node without one, and says why. The
 * reservation heals by itself after a drop (a relay restart); it follows the bootstrap session to
 * another server (`server:failover`), and moves down `reserveAt` when its relay stays gone (`follow`).
 */
import type { NodeIdentity } from '@pyp2p/identity'
import type { RendezvousSession } from '@pyp2p/punch'
import { CircuitRelayer, type UNL, withRelay } from '@pyp2p/unl'
import type createDebug from 'debug'
import type { ResolvedNetOptions } from './options.js'
import { type RelayHostNode, type ServedRelay, serveRelay } from './relay-host.js'
import { type Address, ReservationKeeper } from './reservation-keeper.js'

export interface Relaying {
  relayer: CircuitRelayer | undefined
  /** The relay this node serves for others, when it does. */
  served: ServedRelay | undefined
  /** One sentence per decision, for the start report. */
  reasons: string[]
  /** `unl` naming our relay when we hold a reservation. */
  name(unl: UNL): UNL
  /**
   * Keeps our reservation where others find it (reservation-keeper.ts), calling `onMoved` after each
   * move (`name()` then names the new relay), and circuits to targets whose UNL names no relay going
   * through the server `session` fails over to. Ends with `close()`.
   */
  follow(
    session: RendezvousSession | undefined,
    onMoved: (from: Address | undefined, to: Address) => void,
  ): void
  /** Leaves the reservation, closes the served relay (its port and mapping). Never rejects. */
  close(): Promise<void>
}

export async function startRelaying(
  o: ResolvedNetOptions,
  server: Address | undefined,
  node: RelayHostNode,
  identity: NodeIdentity,
  signal: AbortSignal,
  log: createDebug.Debugger,
): Promise<Relaying> {
  const none: Relaying = {
    relayer: undefined,
    served: undefined,
    reasons: [],
    name: (u) => u,
    follow: () => {},
    close: async () => {},
  }
  const cr = o.circuitRelay
  if (!cr.use) return none
  const reasons: string[] = []
  let served: ServedRelay | undefined
  if (cr.serve) {
    const r = await serveRelay(o, node, signal, log)
    served = r.served
    reasons.push(r.reason)
  }
  const candidates = cr.reserveAt.length > 0 ? cr.reserveAt : server === undefined ? [] : [server]
  const relays = [server ?? candidates[0]].filter((a) => a !== undefined)
  if (relays.length === 0) return { ...none, served, reasons, close: async () => served?.close() }
  const relayer = new CircuitRelayer({ relays, timeout: o.dialTimeout })
  const keeper = new ReservationKeeper({
    identity,
    timeout: o.dialTimeout,
    relayer,
    reserveAt: cr.reserveAt,
    relaysFollow: server === undefined,
    reserves: node.nodeType !== 'passive',
    log,
  })
  // Only a node others cannot dial needs one; the first relay that grants it is the one our UNL names.
  if (node.nodeType !== 'passive') {
    try {
      reasons.push(...(await keeper.reserve(candidates, signal)))
    } catch (err) {
      await served?.close()
      throw err
    }
  }

  return {
    relayer,
    served,
    reasons,
    name: (unl) => {
      const at = keeper.at
      return at === undefined ? unl : withRelay(unl, at)
    },
    follow: (session, onMoved) => keeper.follow(session, onMoved),
    close: async () => {
      keeper.close()
      await served?.close()
    },
  }
}
