/**
 * Which external port the punch's own mapping will get, from the NAT behaviour and the port the server
 * saw on a connection made from the punch's local port just before (pyp2p's "prediction").
 */
import { DELTA_PREDICTIONS } from './constants.js'
import { PunchError } from './errors.js'
import type { NatBehaviour } from './nat-type.js'

/** Wraps a port onto 1..65535 the way a NAT's allocator would skip 0. */
function wrapPort(port: number): number {
  const p = (((port - 1) % 65535) + 65535) % 65535
  return p + 1
}

/**
 * Predicted external ports of the next mapping(s) from the punch's local port.
 *
 * - `preserving`, `reuse`: the mapping the server saw is reused for the peer: `[observed]`.
 * - `delta`: every new destination gets a new mapping `delta` further on: `observed + k * delta` for
 *   k = 1..`count` (more than one in case something else took a port in between).
 * - `random`: throws `ERR_NAT_UNPREDICTABLE` (stage `detection`).
 */
export function predictPorts(
  nat: Pick<NatBehaviour, 'type' | 'delta' | 'samples'>,
  observedPort: number,
  count: number = DELTA_PREDICTIONS,
): number[] {
  if (!Number.isInteger(observedPort) || observedPort < 1 || observedPort > 65535) {
    throw PunchError.INVALID_ARGUMENT(`observed port ${observedPort} is not 1..65535`)
  }
  switch (nat.type) {
    case 'preserving':
    case 'reuse':
      return [observedPort]
    case 'delta': {
      const delta = nat.delta ?? 0
      if (!Number.isInteger(delta) || delta === 0)
        throw PunchError.INVALID_ARGUMENT(`delta ${delta} for a delta NAT`)
      const n = Math.max(1, Math.floor(count))
      return Array.from({ length: n }, (_, i) => wrapPort(observedPort + delta * (i + 1)))
    }
    case 'random':
      throw PunchError.NAT_UNPREDICTABLE(nat.samples.length)
  }
}
