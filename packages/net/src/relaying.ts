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
import { CircuitReservation } from '@pyp2p/relay'
import { CircuitRelayer, type UNL, withRelay } from '@pyp2p/unl'
import type createDebug from 'debug'
import type { ResolvedNetOptions } from './options.js'
import { hostPort, type RelayHostNode, type ServedRelay, serveRelay } from './relay-host.js'

type Address = { host: string; port: number }

export interface Relaying {
  relayer: CircuitRelayer | undefined
  /** The relay this node serves for others, when it does. */
  served: ServedRelay | undefined
  /** Where this node holds its reservation, when it does. */
  readonly reservedAt: Address | undefined
  /** One sentence per decision, for the start report. */
  reasons: string[]
  /** `unl` naming our relay when we hold a reservation. */
  name(unl: UNL): UNL
  /**
   * Keeps the relays current, calling `onMoved` after our reservation moved (`name()` then names the
   * new relay): when `session` fails over to another server, circuits to targets whose UNL names no
   * relay go through that server's relay, and a reservation held at the bootstrap server (no
   * `reserveAt`) moves there; a relay of `reserveAt` that stays gone (two reconnects failed) is left
   * for the next one of the list that grants a reservation. A reservation nowhere else granted stays
   * (it heals when its relay is back). Ends with `close()`.
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
    reservedAt: undefined,
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
  let reservation: CircuitReservation | undefined
  let at: Address | undefined
  /** Failed reconnects of the reservation since it was last granted. */
  let failures = 0
  /** Set by `follow`: what a reservation that backs off after a drop does (failures so far). */
  let lost: ((failures: number) => void) | undefined
  const hold = (r: CircuitReservation, where: Address): void => {
    reservation = r
    at = where
    failures = 0
    relayer.setReservation(r)
    r.on('warning', (e) => log('relay reservation: %s', e.message))
    r.on('state', (s) => {
      log('relay reservation at %s: %s', hostPort(where), s)
      if (r !== reservation) return
      if (s === 'reserved') failures = 0
      if (s === 'backing-off') lost?.(++failures)
    })
  }
  // Only a node others cannot dial needs one; the first relay that grants it is the one our UNL names.
  for (const candidate of node.nodeType === 'passive' ? [] : candidates) {
    try {
      hold(
        await CircuitReservation.open({ ...candidate, identity, signal, timeout: o.dialTimeout }),
        candidate,
      )
    } catch (err) {
      if (signal.aborted) {
        await served?.close()
        throw err
      }
      log('no relay reservation at %s: %s', hostPort(candidate), (err as Error).message)
      reasons.push(`circuit relay: no reservation at ${hostPort(candidate)}: ${(err as Error).message}`)
      continue
    }
    reasons.push(`circuit relay: reserved at ${hostPort(candidate)}`)
    break
  }

  const closing = new AbortController()
  let onMoved: ((from: Address | undefined, to: Address) => void) | undefined
  /** The move under way: a newer one aborts it. */
  let moving: AbortController | undefined
  /** Reserves at the first of `targets` that grants it, then leaves the old reservation. */
  const moveTo = async (targets: readonly Address[]): Promise<void> => {
    moving?.abort()
    const mine = new AbortController()
    moving = mine
    try {
      await reserveFirst(targets, AbortSignal.any([mine.signal, closing.signal]))
    } finally {
      if (moving === mine) moving = undefined
    }
  }
  const reserveFirst = async (targets: readonly Address[], stop: AbortSignal): Promise<void> => {
    for (const to of targets) {
      let next: CircuitReservation
      try {
        next = await CircuitReservation.open({ ...to, identity, signal: stop, timeout: o.dialTimeout })
      } catch (err) {
        if (stop.aborted) return
        log('no relay reservation at %s: %s', hostPort(to), (err as Error).message)
        continue
      }
      if (stop.aborted) {
        next.close()
        return
      }
      const from = at
      const old = reservation
      hold(next, to)
      old?.close()
      log('relay reservation moved from %s to %s', from === undefined ? 'none' : hostPort(from), hostPort(to))
      onMoved?.(from, to)
      return
    }
  }
  const same = (x: Address, y: Address | undefined): boolean => x.host === y?.host && x.port === y.port

  return {
    relayer,
    served,
    get reservedAt() {
      return at
    },
    reasons,
    name: (unl) => (at === undefined ? unl : withRelay(unl, at)),
    follow: (session, moved) => {
      onMoved = moved
      if (node.nodeType === 'passive') lost = undefined
      else if (cr.reserveAt.length > 1) {
        // A named relay that stays gone (two reconnects failed): the next of `reserveAt` that grants
        // one, tried again at each further failed reconnect while none does.
        lost = (n) => {
          if (n >= 2 && moving === undefined && !closing.signal.aborted)
            void moveTo(cr.reserveAt.filter((c) => !same(c, at)))
        }
      } else if (cr.reserveAt.length === 0 && session !== undefined) {
        // A session that holds no registration (an active node's) does not reconnect by itself: while
        // our reservation at its server backs off and the session has no connection, open it again
        // (to the next server that answers, if this one is gone: a failover, below).
        lost = () => {
          if (session.client === undefined && !closing.signal.aborted)
            session.open({ signal: closing.signal }).catch((err: unknown) => {
              log('bootstrap session not reopened: %s', (err as Error).message)
            })
        }
      }
      if (session === undefined) return
      const onFailover = (): void => {
        const to = session.server
        if (to === undefined || closing.signal.aborted) return
        const where = { host: to.host, port: to.port }
        relayer.setRelays([where])
        if (cr.reserveAt.length === 0 && node.nodeType !== 'passive') void moveTo([where])
      }
      session.on('server:failover', onFailover)
      closing.signal.addEventListener('abort', () => session.off('server:failover', onFailover))
    },
    close: async () => {
      closing.abort()
      reservation?.close()
      await served?.close()
    },
  }
}
