/**
 * Port forwarding for a node's listening port (step 4 of start): map it with @pyp2p/nat and say how
 * the mapping is released at stop.
 */
import { NatClient } from '@pyp2p/nat'
import { FORWARDING_DESCRIPTION, FORWARDING_TIMEOUT_MS, FORWARDING_TTL_S } from './constants.js'
import type { ForwardedPort } from './node-type.js'
import type { ResolvedNetOptions } from './options.js'

/** The `forward` step of determineNodeType; `adopt` receives how to release the mapping. */
export function forwardPort(
  o: ResolvedNetOptions,
  internalPort: number,
  adopt: (release: () => Promise<void>) => void,
): (signal: AbortSignal) => Promise<ForwardedPort> {
  return async (s) => {
    const nat = o.natClient ?? new NatClient({ timeout: FORWARDING_TIMEOUT_MS })
    adopt(() =>
      o.natClient === undefined
        ? nat.close()
        : nat.unmap({ internalPort, protocol: 'TCP' }).then(
            () => undefined,
            () => undefined,
          ),
    )
    const m = await nat.map({
      internalPort,
      ttl: FORWARDING_TTL_S,
      description: FORWARDING_DESCRIPTION,
      signal: s,
    })
    // A UNL knows UPnP and NAT-PMP; PCP (NAT-PMP's successor, same port) is written as NAT-PMP.
    const method = m.method === 'upnp' ? 'upnp' : 'natpmp'
    return { method, externalAddress: m.externalAddress, externalPort: m.externalPort }
  }
}
