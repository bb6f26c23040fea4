/**
 * A Net's part in circuit relaying (@pyp2p/relay, issue 14): the relayer `connect()` falls back to
 * (circuits through the relay a peer's UNL names, else our bootstrap server's, else `reserveAt`); for
 * a node that cannot be dialled (not passive), a reservation at `circuitRelay.reserveAt` or else the
 * bootstrap server, so others can reach it through a circuit (its UNL then names that relay); and for
 * a passive node with `circuitRelay.serve`, a relay of its own for others (relay-host.ts). A relay that
 * refuses the reservation (none there, or a limit) leaves the node without one, and says why. The
 * reservation heals by itself after a drop (a relay restart).
 */
import type { NodeIdentity } from '@pyp2p/identity'
import { CircuitReservation } from '@pyp2p/relay'
import { CircuitRelayer, type UNL, withRelay } from '@pyp2p/unl'
import type createDebug from 'debug'
import type { ResolvedNetOptions } from './options.js'
import { hostPort, type RelayHostNode, type ServedRelay, serveRelay } from './relay-host.js'

export interface Relaying {
  relayer: CircuitRelayer | undefined
  /** The relay this node serves for others, when it does. */
  served: ServedRelay | undefined
  /** Where this node holds its reservation, when it does. */
  reservedAt: { host: string; port: number } | undefined
  /** One sentence per decision, for the start report. */
  reasons: string[]
  /** `unl` naming our relay when we hold a reservation. */
  name(unl: UNL): UNL
  /** Leaves the reservation, closes the served relay (its port and mapping). Never rejects. */
  close(): Promise<void>
}

export async function startRelaying(
  o: ResolvedNetOptions,
  server: { host: string; port: number } | undefined,
  node: RelayHostNode,
  identity: NodeIdentity,
  signal: AbortSignal,
  log: createDebug.Debugger,
): Promise<Relaying> {
  const none: Relaying = {
    relayer: undefined,
    served: undefined,
    reservedAt: undefined,
    reasons: [],
    name: (u) => u,
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
  let reservation: CircuitReservation | undefined
  let at: { host: string; port: number } | undefined
  // Only a node others cannot dial needs one; the first relay that grants it is the one our UNL names.
  for (const candidate of node.nodeType === 'passive' ? [] : candidates) {
    try {
      reservation = await CircuitReservation.open({ ...candidate, identity, signal, timeout: o.dialTimeout })
    } catch (err) {
      if (signal.aborted) {
        await served?.close()
        throw err
      }
      log('no relay reservation at %s: %s', hostPort(candidate), (err as Error).message)
      reasons.push(`circuit relay: no reservation at ${hostPort(candidate)}: ${(err as Error).message}`)
      continue
    }
    at = candidate
    relayer.setReservation(reservation)
    reservation.on('warning', (e) => log('relay reservation: %s', e.message))
    reservation.on('state', (s) => log('relay reservation at %s: %s', hostPort(candidate), s))
    reasons.push(`circuit relay: reserved at ${hostPort(candidate)}`)
    break
  }
  return {
    relayer,
    served,
    reservedAt: at,
    reasons,
    name: (unl) => (at === undefined ? unl : withRelay(unl, at)),
    close: async () => {
      reservation?.close()
      await served?.close()
    },
  }
}
