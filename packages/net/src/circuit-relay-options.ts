/**
 * The `circuitRelay` option of `Net` (issue 14): `true`/`false` as before (use circuits through the
 * bootstrap server, and reserve there when not passive), or an object that also makes a passive node
 * serve a circuit relay for others (`serve`, with @pyp2p/relay's limits object, the one the bootstrap
 * server takes) and names the relay a NATed node reserves at (`reserveAt`).
 */
import type { CircuitRelayOptions } from '@pyp2p/relay'
import { resolveRelayOptions } from '@pyp2p/relay'
import { NetError } from './errors.js'

export interface NetCircuitRelayOptions extends CircuitRelayOptions {
  /**
   * Run a circuit relay for other nodes, on a port of its own (`servePort`), with the limits of this
   * object (@pyp2p/relay's `CircuitRelayOptions`, defaults as the bootstrap server's). Only a passive
   * node serves (others cannot be dialled by the nodes that would reserve); `startReport.circuitRelay`
   * says where, `startReport.reasons` why not. Default false.
   */
  serve?: boolean
  /** The relay's listening port (on `passiveBind`); 0 picks a free one. Default 0. */
  servePort?: number
  /**
   * The relay this node reserves at when it is not passive (`host:port` or `{ host, port }`), e.g. a
   * passive node that serves one, instead of its bootstrap server; or several, tried in order until
   * one grants the reservation. Its UNL then names that relay, and `connect()` dials through the first
   * to peers whose UNL names none when there is no bootstrap server. Default: the bootstrap server.
   */
  reserveAt?: RelayAddressOption | readonly RelayAddressOption[]
}

export type RelayAddressOption = { host: string; port?: number } | string

export interface ResolvedNetCircuitRelay {
  /** Circuits and reservations at all (`circuitRelay: false` turns both off, and serving). */
  use: boolean
  serve: boolean
  servePort: number
  /** In order of preference; empty: the bootstrap server. */
  reserveAt: { host: string; port: number }[]
  /** The served relay's options, as given (checked here, resolved by the relay). */
  limits: CircuitRelayOptions
}

/** Defaults applied and every value checked; throws `NetError` `ERR_INVALID_OPTION`. */
export function resolveCircuitRelay(
  value: boolean | NetCircuitRelayOptions | undefined,
  parseAddress: (name: string, v: RelayAddressOption) => { host: string; port: number },
): ResolvedNetCircuitRelay {
  const off = { serve: false, servePort: 0, reserveAt: [], limits: {} }
  if (value === undefined || value === true) return { use: true, ...off }
  if (value === false) return { use: false, ...off }
  if (typeof value !== 'object' || value === null)
    throw NetError.INVALID_OPTION(
      'circuitRelay',
      value,
      'a boolean or { serve?, servePort?, reserveAt?, ...limits }',
    )
  const { serve = false, servePort = 0, reserveAt, ...limits } = value
  if (typeof serve !== 'boolean') throw NetError.INVALID_OPTION('circuitRelay.serve', serve, 'true or false')
  if (!Number.isSafeInteger(servePort) || servePort < 0 || servePort > 65_535)
    throw NetError.INVALID_OPTION('circuitRelay.servePort', servePort, 'an integer 0..65535')
  try {
    resolveRelayOptions(limits)
  } catch (err) {
    throw NetError.INVALID_OPTION('circuitRelay', limits, `relay limits: ${(err as Error).message}`)
  }
  return {
    use: true,
    serve,
    servePort,
    reserveAt: (reserveAt === undefined ? [] : Array.isArray(reserveAt) ? reserveAt : [reserveAt]).map(
      (a: RelayAddressOption, i: number) => parseAddress(`circuitRelay.reserveAt[${i}]`, a),
    ),
    limits,
  }
}
