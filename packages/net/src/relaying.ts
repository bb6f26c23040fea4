/**
 * A Net's part in circuit relaying (@pyp2p/relay, issue 14): the relayer `connect()` falls back to
 * (circuits through our bootstrap server, or the relay a peer's UNL names) and, for a node that cannot
 * be dialled (not passive), a reservation at the bootstrap server so others can reach it through a
 * circuit; its UNL then names that relay. A server without a circuit relay refuses the reservation:
 * the node goes on without one. The reservation heals by itself after a drop (a relay restart).
 */
import type { NodeIdentity } from '@pyp2p/identity'
import { CircuitReservation } from '@pyp2p/relay'
import { CircuitRelayer, type NodeType, type UNL, withRelay } from '@pyp2p/unl'
import type createDebug from 'debug'

export interface Relaying {
  relayer: CircuitRelayer | undefined
  /** `unl` naming our relay when we hold a reservation. */
  name(unl: UNL): UNL
  close(): void
}

export async function startRelaying(
  o: { circuitRelay: boolean; dialTimeout: number },
  server: { host: string; port: number } | undefined,
  nodeType: NodeType,
  identity: NodeIdentity,
  signal: AbortSignal,
  log: createDebug.Debugger,
): Promise<Relaying> {
  if (!o.circuitRelay || server === undefined) return { relayer: undefined, name: (u) => u, close() {} }
  const relayer = new CircuitRelayer({ relays: [server], timeout: o.dialTimeout })
  let reservation: CircuitReservation | undefined
  if (nodeType !== 'passive') {
    try {
      reservation = await CircuitReservation.open({ ...server, identity, signal, timeout: o.dialTimeout })
      relayer.setReservation(reservation)
      reservation.on('warning', (e) => log('relay reservation: %s', e.message))
      reservation.on('state', (s) => log('relay reservation at %s:%d: %s', server.host, server.port, s))
    } catch (err) {
      if (signal.aborted) throw err
      log('no relay reservation at %s:%d: %s', server.host, server.port, (err as Error).message)
    }
  }
  return {
    relayer,
    name: (unl) => (reservation === undefined ? unl : withRelay(unl, server)),
    close: () => reservation?.close(),
  }
}
