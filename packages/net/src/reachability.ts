/**
 * The step of `start()` that decides whether our listening port can be reached from outside, behind a
 * small interface. The original asked external "forwarding servers" to connect back. The default here,
 * `ServerDialBackProbe`, asks the bootstrap server to do that (`CHECK TCP <port> <nonce>`): it connects
 * to the address it sees us at, sends the nonce, and says whether it got through; the port counts as
 * reachable only when that nonce also arrived at our own listener (`DialBackListener`, which drops the
 * probe connection quietly; dial-back-listener.ts, server-dial-back-probe.ts). `ObservedAddressProbe` concludes what it can from the address the server
 * saw, without any dial: the fallback for servers without `CHECK`.
 */
import { plainAddress } from '@pyp2p/framing'
import { isLocalAddress, isUnspecified } from './local-addresses.js'

/** `unknown`: the probe cannot tell (e.g. a router mapping it has no way to test). */
export type Reachability = 'reachable' | 'unreachable' | 'unknown'

export interface ReachabilityQuery {
  /** The address and port others would dial (our WAN address and listening or mapped port). */
  host: string
  port: number
  /** The listening socket's bound address and port. */
  listen: { address: string; port: number }
  /** What the bootstrap server saw of our connection to it, when one answered. */
  observed: { ip: string; port: number } | undefined
  /** True when `host:port` is a router's port mapping (UPnP / NAT-PMP) rather than the listener itself. */
  mapped: boolean
  signal: AbortSignal
}

export interface ReachabilityVerdict {
  reachable: Reachability
  /** For humans: how the verdict was reached. */
  reason: string
}

export interface ReachabilityProbe {
  /** For reports, e.g. `observed-address` or `server-dial-back`. */
  readonly name: string
  check(query: ReachabilityQuery): Promise<ReachabilityVerdict>
}

/** The default probe: reachable when the server saw us at one of our own addresses, on which we listen. */
export class ObservedAddressProbe implements ReachabilityProbe {
  readonly name = 'observed-address'

  async check(q: ReachabilityQuery): Promise<ReachabilityVerdict> {
    if (q.observed === undefined) {
      return { reachable: 'unknown', reason: 'no bootstrap server saw us, so our public address is unknown' }
    }
    if (q.mapped) {
      return {
        reachable: 'unknown',
        reason: `${q.host}:${q.port} is a router mapping this probe cannot test (no dial-back from the server)`,
      }
    }
    const seen = plainAddress(q.observed.ip)
    if (!isLocalAddress(seen)) {
      return {
        reachable: 'unreachable',
        reason: `the server saw us at ${seen}, which is not an address of this host: a NAT is in between`,
      }
    }
    const bound = plainAddress(q.listen.address)
    if (!isUnspecified(bound) && bound !== seen) {
      return {
        reachable: 'unreachable',
        reason: `the server saw us at ${seen} but we listen on ${bound} only`,
      }
    }
    return {
      reachable: 'reachable',
      reason: `the server saw us at ${seen}, an address of this host (no NAT), and we listen on it`,
    }
  }
}
