// IPv6 pinholes by UPnP for map({ family: 6 }) when the IPv6 gateway does not speak PCP: finds the
// IGD's WANIPv6FirewallControl service once (SSDP over IPv6 from our address, or the location given),
// opens, renews (UpdatePinhole with the UniqueID; AddPinhole again when the router lost it) and deletes.
import createDebug from 'debug'
import { PINHOLE_ERROR, UPNP_ERROR } from './constants.js'
import { NatError } from './errors.js'
import type { Ipv6Gateway } from './ipv6-gateway.js'
import type { MapRequest } from './map-request.js'
import { PinholeClient, pinholeLease } from './pinhole-client.js'
import { searchPinholeService } from './ssdp6.js'
import type { Mapping, RequestOptions } from './types.js'

const debug = createDebug('pyp2p:nat:upnp')

export interface PinholeGrant {
  uniqueId: number
  /** seconds granted (the lease asked for, clamped to 1..86400) */
  lease: number
  /** the router had lost the pinhole (restart, expiry) and it was opened again */
  restarted: boolean
  /** the router's IPv6 address */
  gateway: string
}

/** A fault that says the pinhole is not there (any more). */
export const pinholeGone = (err: unknown): boolean =>
  err instanceof NatError &&
  (err.upnpCode === PINHOLE_ERROR.NO_SUCH_ENTRY || err.upnpCode === UPNP_ERROR.INVALID_ARGS)

export class PinholeMapper {
  #client: Promise<PinholeClient> | undefined

  /** The firewall service of the IPv6 gateway, found once; a failed search is tried again next time. */
  client(gw: Ipv6Gateway & { localAddress: string }, opts: RequestOptions): Promise<PinholeClient> {
    this.#client ??= (async () => {
      const location =
        gw.upnpLocation !== undefined
          ? new URL(gw.upnpLocation)
          : (await searchPinholeService({ localAddress: gw.localAddress, ...opts })).response.location
      debug('IPv6 firewall control at %s', location.href)
      return PinholeClient.connect(location, opts)
    })()
    this.#client.catch(() => {
      this.#client = undefined
    })
    return this.#client
  }

  /** Forgets the client (after a transport failure: the router may have moved). */
  invalidate(): void {
    this.#client = undefined
  }

  /** Opens a pinhole for `req`, or renews `previous` (re-opening it when the router lost it). */
  async establish(
    gw: Ipv6Gateway & { localAddress: string },
    req: MapRequest,
    previous: Mapping | undefined,
    opts: RequestOptions,
  ): Promise<PinholeGrant> {
    try {
      const client = await this.client(gw, opts)
      const lease = pinholeLease(req.ttl)
      let restarted = false
      if (previous?.pinholeId !== undefined) {
        try {
          await client.updatePinhole(previous.pinholeId, lease, opts)
          return { uniqueId: previous.pinholeId, lease, restarted, gateway: client.gatewayAddress }
        } catch (err) {
          if (!pinholeGone(err)) throw err
          debug('pinhole %d is gone: opening it again', previous.pinholeId)
          restarted = true
        }
      }
      const args = { internalClient: gw.localAddress, internalPort: req.internalPort, protocol: req.protocol }
      const uniqueId = await client.addPinhole({ ...args, lease }, opts)
      return { uniqueId, lease, restarted, gateway: client.gatewayAddress }
    } catch (err) {
      if (!(err instanceof NatError && err.upnpCode !== undefined)) this.invalidate()
      throw err
    }
  }

  /** Deletes a pinhole; one the router no longer has counts as deleted. */
  async remove(gw: Ipv6Gateway & { localAddress: string }, mapping: Mapping, opts: RequestOptions) {
    if (mapping.pinholeId === undefined) throw NatError.NOT_MAPPED(mapping.internalPort, mapping.protocol)
    const client = await this.client(gw, opts)
    try {
      await client.deletePinhole(mapping.pinholeId, opts)
    } catch (err) {
      if (!pinholeGone(err)) throw err
    }
  }
}
