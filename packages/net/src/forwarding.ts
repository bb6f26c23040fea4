/**
 * Port forwarding for a node's listening port (step 4 of start): map it with @pyp2p/nat and say how
 * the mapping is released at stop. The gateway search can run ahead (`prepare`, while the
 * reachability probe waits), so the mapping itself need not wait for it.
 */
import { NatClient } from '@pyp2p/nat'
import { FORWARDING_DESCRIPTION, FORWARDING_TIMEOUT_MS, FORWARDING_TTL_S } from './constants.js'
import type { ForwardedPort } from './node-type.js'
import type { ResolvedNetOptions } from './options.js'

export interface PortForwarding {
  /**
   * Searches for gateways without mapping anything (a failure shows at `forward`). Not with the user's
   * `natClient`: its gateways and searches are its own (a search here would restart them).
   */
  prepare(signal: AbortSignal): Promise<void>
  /** Maps the port, using what `prepare` found when it ran. */
  forward(signal: AbortSignal): Promise<ForwardedPort>
}

/** The forwarding steps of determineNodeType; `adopt` receives how to release the client and its mapping. */
export function forwardPort(
  o: ResolvedNetOptions,
  internalPort: number,
  adopt: (release: () => Promise<void>) => void,
): PortForwarding {
  let client: NatClient | undefined
  const nat = (): NatClient => {
    if (client !== undefined) return client
    const made = o.natClient ?? new NatClient({ timeout: FORWARDING_TIMEOUT_MS })
    client = made
    adopt(() =>
      o.natClient === undefined
        ? made.close()
        : made.unmap({ internalPort, protocol: 'TCP' }).then(
            () => undefined,
            () => undefined,
          ),
    )
    return made
  }
  return {
    prepare: async (signal) => {
      if (o.natClient === undefined) await nat().discover({ signal })
    },
    forward: async (signal) => {
      const m = await nat().map({
        internalPort,
        ttl: FORWARDING_TTL_S,
        description: FORWARDING_DESCRIPTION,
        signal,
      })
      // A UNL knows UPnP and NAT-PMP; PCP (NAT-PMP's successor, same port) is written as NAT-PMP.
      const method = m.method === 'upnp' ? 'upnp' : 'natpmp'
      return { method, externalAddress: m.externalAddress, externalPort: m.externalPort }
    },
  }
}
