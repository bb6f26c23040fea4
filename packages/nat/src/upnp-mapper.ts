// How a UPnP mapping is obtained from what routers really answer (IGD WANIPConnection:1/2 specs):
// 718/729 conflict -> another port, 725 only permanent leases -> lease 0 (remembered, deleted on
// close), 724 same port required -> internal port, 606 -> not authorized, 728 -> no ports left.
import { randomInt } from 'node:crypto'
import createDebug from 'debug'
import { MAX_PORT_ATTEMPTS, RANDOM_PORT_MIN, UPNP_ERROR, UPNP_MAX_LEASE_S } from './constants.js'
import { NatError } from './errors.js'
import type { Protocol, RequestOptions } from './types.js'
import type { UpnpClient } from './upnp-client.js'

const debug = createDebug('pyp2p:nat:upnp')

export interface UpnpMapRequest {
  protocol: Protocol
  internalPort: number
  internalClient: string
  /** preferred external port */
  externalPort: number
  /** only this external port will do */
  exact: boolean
  ttl: number
  description: string
}

export interface UpnpGrant {
  externalPort: number
  /** lease granted, seconds; 0 = permanent */
  lease: number
}

export async function upnpMap(
  client: UpnpClient,
  req: UpnpMapRequest,
  opts: RequestOptions,
): Promise<UpnpGrant> {
  let lease = Math.min(req.ttl, UPNP_MAX_LEASE_S)
  let port = req.externalPort
  let useAny = client.version === 2 && !req.exact
  let last: NatError | undefined
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; ) {
    const args = { ...req, externalPort: port, lease }
    try {
      if (useAny) return { externalPort: await client.addAnyPortMapping(args, opts), lease }
      await client.addPortMapping(args, opts)
      return { externalPort: port, lease }
    } catch (err) {
      if (!(err instanceof NatError) || err.upnpCode === undefined) throw err
      last = err
      const details = { upnpCode: err.upnpCode, cause: err }
      switch (err.upnpCode) {
        case UPNP_ERROR.ONLY_PERMANENT_LEASES:
          if (lease === 0) throw err
          debug('router takes only permanent leases; mapping %d with lease 0', port)
          lease = 0
          continue
        case UPNP_ERROR.INVALID_ACTION:
          if (!useAny) throw err
          useAny = false // a v2 service without AddAnyPortMapping: fall back to v1's call
          continue
        case UPNP_ERROR.CONFLICT:
        case UPNP_ERROR.CONFLICT_WITH_OTHER_MECHANISMS:
          if (req.exact) throw NatError.PORT_IN_USE(port, req.protocol, details)
          port = randomInt(RANDOM_PORT_MIN, 65536)
          break
        case UPNP_ERROR.SAME_PORT_REQUIRED:
          if (port === req.internalPort) throw err
          port = req.internalPort
          break
        case UPNP_ERROR.NOT_AUTHORIZED:
          throw NatError.NOT_AUTHORIZED(details)
        case UPNP_ERROR.NO_PORT_MAPS_AVAILABLE:
          throw NatError.OUT_OF_RESOURCES(details)
        default:
          throw err
      }
      attempt++
    }
  }
  throw NatError.PORT_IN_USE(port, req.protocol, { ...(last ? { cause: last } : {}) })
}
