// Making and removing one mapping on the selected gateway, by UPnP or NAT-PMP, and noticing NAT-PMP
// gateway restarts from their epoch (RFC 6886 section 3.6).
import createDebug from 'debug'
import { EPOCH_SLACK_S, NATPMP_RESULT, UPNP_ERROR } from './constants.js'
import { NatError } from './errors.js'
import type { GatewayPool } from './gateway-pool.js'
import { natpmpExternalAddress, natpmpMap, natpmpUnmap } from './natpmp-client.js'
import type { Mapping, MappingMethod, NatWarning, Protocol, RequestOptions } from './types.js'
import { upnpMap } from './upnp-mapper.js'
import { externalAddressWarning } from './warnings.js'

const debug = createDebug('pyp2p:nat')

/** A normalised map() request. */
export interface MapRequest {
  internalPort: number
  protocol: Protocol
  ttl: number
  description: string
  externalPort: number
  exactExternalPort: boolean
}

export interface Established {
  mapping: Mapping
  /** the NAT-PMP gateway's epoch says it restarted since we last heard from it */
  restarted: boolean
  warning: NatWarning | undefined
}

export class PortMapper {
  readonly #pool: GatewayPool
  readonly #epochs = new Map<string, { epoch: number; at: number }>()

  constructor(pool: GatewayPool) {
    this.#pool = pool
  }

  /** Records a NAT-PMP epoch; true when it shows the gateway restarted (lost its mappings). */
  checkEpoch(gateway: string, epoch: number): boolean {
    const now = Date.now()
    const prev = this.#epochs.get(gateway)
    this.#epochs.set(gateway, { epoch, at: now })
    if (prev === undefined) return false
    const expected = prev.epoch + ((now - prev.at) / 1000) * (7 / 8) - EPOCH_SLACK_S
    if (epoch >= expected) return false
    debug('NAT-PMP epoch of %s went from %d to %d: it restarted', gateway, prev.epoch, epoch)
    return true
  }

  /** External address over NAT-PMP; null when the gateway has none (result 3). */
  async natpmpExternal(
    gateway: string,
    opts: RequestOptions,
  ): Promise<{ address: string | null; restarted: boolean }> {
    try {
      const ext = await natpmpExternalAddress(gateway, opts)
      return { address: ext.address, restarted: this.checkEpoch(gateway, ext.epoch) }
    } catch (err) {
      if (err instanceof NatError && err.natpmpCode === NATPMP_RESULT.NETWORK_FAILURE) {
        return { address: null, restarted: false }
      }
      throw err
    }
  }

  async establish(
    req: MapRequest,
    preferred: number,
    opts: RequestOptions,
    method?: MappingMethod,
  ): Promise<Established> {
    const sel = await this.#pool.select(opts, method)
    const gw = sel.gateway.info
    if (sel.upnp) {
      const upnp = sel.upnp
      const grant = await upnpMap(
        upnp,
        { ...req, internalClient: upnp.localAddress, externalPort: preferred, exact: req.exactExternalPort },
        opts,
      )
      const address = await upnp.externalIp(opts)
      const mapping = toMapping(
        'upnp',
        req,
        upnp.localAddress,
        address,
        grant.externalPort,
        grant.lease,
        gw.address,
      )
      return { mapping, restarted: false, warning: externalAddressWarning(address, gw.address) }
    }
    const grant = await natpmpMap(gw.address, { ...req, externalPort: preferred }, opts)
    let restarted = this.checkEpoch(gw.address, grant.epoch)
    if (req.exactExternalPort && grant.externalPort !== preferred) {
      await natpmpUnmap(gw.address, req, opts).catch((err: unknown) =>
        debug('could not give back port %d: %s', grant.externalPort, (err as Error).message),
      )
      throw NatError.PORT_IN_USE(preferred, req.protocol)
    }
    const ext = await this.natpmpExternal(gw.address, opts)
    restarted ||= ext.restarted
    const mapping = toMapping(
      'natpmp',
      req,
      gw.localAddress,
      ext.address,
      grant.externalPort,
      grant.ttl,
      gw.address,
    )
    return { mapping, restarted, warning: externalAddressWarning(ext.address, gw.address) }
  }

  /** Deletes a mapping on its gateway; a mapping already gone (UPnP 714) counts as removed. */
  async remove(mapping: Mapping, opts: RequestOptions): Promise<void> {
    if (mapping.method === 'natpmp') {
      await natpmpUnmap(mapping.gateway, mapping, opts)
      return
    }
    const upnp = this.#pool.find(mapping.gateway)?.upnp ?? (await this.#pool.select(opts, 'upnp', true)).upnp
    if (upnp === undefined) throw NatError.NO_GATEWAY(0, 'a UPnP gateway')
    try {
      await upnp.deletePortMapping(mapping.externalPort, mapping.protocol, opts)
    } catch (err) {
      if (!(err instanceof NatError && err.upnpCode === UPNP_ERROR.NO_SUCH_ENTRY)) throw err
    }
  }
}

function toMapping(
  method: MappingMethod,
  req: MapRequest,
  internalAddress: string,
  externalAddress: string | null,
  externalPort: number,
  ttl: number,
  gateway: string,
): Mapping {
  return {
    method,
    protocol: req.protocol,
    internalAddress,
    internalPort: req.internalPort,
    externalAddress,
    externalPort,
    ttl,
    permanent: ttl === 0,
    expiresAt: ttl === 0 ? null : Date.now() + ttl * 1000,
    description: method === 'upnp' ? req.description : '',
    gateway,
  }
}
