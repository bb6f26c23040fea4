// Making and removing one mapping on the selected gateway, by PCP, NAT-PMP or UPnP, and noticing
// gateway restarts from the PCP/NAT-PMP epochs (RFC 6887 section 8.5, RFC 6886 section 3.6).
import createDebug from 'debug'
import type { Clock } from './clock.js'
import { NATPMP_RESULT, PCP_IPV6_PROBE_MS, UPNP_ERROR } from './constants.js'
import { EpochTracker } from './epoch.js'
import { NatError } from './errors.js'
import type { GatewayPool, Selected } from './gateway-pool.js'
import { type Ipv6Gateway, resolveIpv6Gateway } from './ipv6-gateway.js'
import type { MapRequest } from './map-request.js'
import { natpmpExternalAddress, natpmpMap, natpmpUnmap } from './natpmp-client.js'
import { type PcpRequestOptions, pcpExternalAddress, pcpMap } from './pcp-client.js'
import { PinholeMapper } from './pinhole-mapper.js'
import type { Mapping, MappingMethod, NatWarning, RequestOptions } from './types.js'
import { upnpMap } from './upnp-mapper.js'
import { externalAddressWarning } from './warnings.js'

export type { Ipv6Gateway } from './ipv6-gateway.js'

export interface PortMapperOptions {
  methods: readonly MappingMethod[]
  ipv6Gateway?: Ipv6Gateway
}

const debug = createDebug('pyp2p:nat')

export interface Established {
  mapping: Mapping
  /** the PCP/NAT-PMP gateway's epoch says it restarted since we last heard from it */
  restarted: boolean
  warning: NatWarning | undefined
}

interface Grant {
  internalAddress: string
  externalAddress: string | null
  externalPort: number
  ttl: number
  restarted: boolean
}

export class PortMapper {
  readonly #pool: GatewayPool
  readonly #clock: Clock
  readonly #epochs: EpochTracker
  readonly #opts: PortMapperOptions
  #ipv6: (Ipv6Gateway & { localAddress: string }) | undefined
  /** how the IPv6 gateway took our last pinhole: PCP or an IGD v2 AddPinhole */
  #v6: 'pcp' | 'upnp' | undefined
  readonly #pinholes = new PinholeMapper()

  constructor(pool: GatewayPool, clock: Clock, opts: PortMapperOptions) {
    this.#pool = pool
    this.#clock = clock
    this.#epochs = new EpochTracker(clock)
    this.#opts = opts
  }

  /** The IPv6 gateway, resolved once (from the routing table unless given). */
  async #ipv6Gateway(opts: RequestOptions): Promise<Ipv6Gateway & { localAddress: string }> {
    if (!this.#opts.methods.includes('pcp') && !this.#opts.methods.includes('upnp'))
      throw NatError.NOT_SUPPORTED('An IPv6 pinhole without PCP or UPnP in `methods`')
    this.#ipv6 ??= await resolveIpv6Gateway(this.#opts.ipv6Gateway, opts.signal)
    return this.#ipv6
  }

  /**
   * A pinhole for our IPv6 address: a PCP MAP of it (RFC 6887 section 11), or, when PCP does not
   * answer and UPnP is allowed, an IGD v2 AddPinhole (WANIPv6FirewallControl). Which one worked is
   * remembered; a renewal (`previous`) keeps its method.
   */
  async #establish6(
    req: MapRequest,
    preferred: number,
    opts: RequestOptions,
    method?: MappingMethod,
    previous?: Mapping,
  ): Promise<Established> {
    const gw = await this.#ipv6Gateway(opts)
    const { methods } = this.#opts
    const pcpFirst =
      method === 'pcp' || (method === undefined && this.#v6 !== 'upnp' && methods.includes('pcp'))
    if (pcpFirst) {
      const fallback = method === undefined && methods.includes('upnp')
      const where = {
        ...opts,
        localAddress: gw.localAddress,
        ...(gw.port ? { port: gw.port } : {}),
        ...(fallback ? { timeout: Math.min(opts.timeout ?? PCP_IPV6_PROBE_MS, PCP_IPV6_PROBE_MS) } : {}),
      }
      try {
        const grant = await this.#pcp(gw.address, req, preferred, where)
        this.#v6 = 'pcp'
        const mapping = this.#mapping('pcp', req, grant, gw.address)
        return { mapping, restarted: grant.restarted, warning: undefined }
      } catch (err) {
        if (!fallback || (err instanceof NatError && err.code === 'ERR_ABORTED')) throw err
        debug('no PCP on the IPv6 gateway (%s): trying an IGD v2 pinhole', (err as Error).message)
      }
    }
    if (!methods.includes('upnp')) throw NatError.NOT_SUPPORTED('An IGD v2 pinhole without UPnP in `methods`')
    const p = await this.#pinholes.establish(gw, req, previous, opts)
    this.#v6 = 'upnp'
    const grant = {
      internalAddress: gw.localAddress,
      externalAddress: gw.localAddress,
      externalPort: req.internalPort,
    }
    const mapping = this.#mapping('upnp', req, { ...grant, ttl: p.lease, restarted: p.restarted }, p.gateway)
    return { mapping: { ...mapping, pinholeId: p.uniqueId }, restarted: p.restarted, warning: undefined }
  }

  #mapping(method: MappingMethod, req: MapRequest, grant: Grant, gateway: string): Mapping {
    const ttl = grant.ttl
    return {
      method,
      family: req.family,
      protocol: req.protocol,
      internalAddress: grant.internalAddress,
      internalPort: req.internalPort,
      externalAddress: grant.externalAddress,
      externalPort: grant.externalPort,
      ttl,
      permanent: ttl === 0,
      expiresAt: ttl === 0 ? null : this.#clock.now() + ttl * 1000,
      description: method === 'upnp' ? req.description : '',
      gateway,
    }
  }

  /** External address over NAT-PMP; null when the gateway has none (result 3). */
  async #natpmpExternal(gateway: string, opts: RequestOptions) {
    try {
      const ext = await natpmpExternalAddress(gateway, opts)
      return { address: ext.address, restarted: this.#epochs.check('natpmp', gateway, ext.epoch) }
    } catch (err) {
      if (err instanceof NatError && err.natpmpCode === NATPMP_RESULT.NETWORK_FAILURE) {
        return { address: null, restarted: false }
      }
      throw err
    }
  }

  /** An epoch heard outside a request (a PCP server's unsolicited ANNOUNCE); true when it shows a
   * restart. */
  noteEpoch(protocol: 'pcp' | 'natpmp', gateway: string, epoch: number): boolean {
    return this.#epochs.check(protocol, gateway, epoch)
  }

  /** The selected gateway's external address, by the protocol selected. */
  async externalAddress(
    sel: Selected,
    opts: RequestOptions,
  ): Promise<{ address: string | null; restarted: boolean }> {
    if (sel.upnp) return { address: await sel.upnp.externalIp(opts), restarted: false }
    const gw = sel.gateway.info
    // PCP has no external-address request: NAT-PMP's answers it when the gateway speaks both.
    if (sel.method === 'natpmp' || gw.natpmp !== undefined) return this.#natpmpExternal(gw.address, opts)
    const ext = await pcpExternalAddress(gw.address, opts)
    return { address: ext.address, restarted: this.#epochs.check('pcp', gw.address, ext.epoch) }
  }

  async establish(
    req: MapRequest,
    preferred: number,
    opts: RequestOptions,
    method?: MappingMethod,
    previous?: Mapping,
  ): Promise<Established> {
    if (req.family === 6) return this.#establish6(req, preferred, opts, method, previous)
    const sel = await this.#pool.select(opts, method)
    const gw = sel.gateway.info
    let grant: Grant
    if (sel.upnp) {
      const upnp = sel.upnp
      const g = await upnpMap(
        upnp,
        { ...req, internalClient: upnp.localAddress, externalPort: preferred, exact: req.exactExternalPort },
        opts,
      )
      const address = await upnp.externalIp(opts)
      grant = {
        internalAddress: upnp.localAddress,
        externalAddress: address,
        ...g,
        ttl: g.lease,
        restarted: false,
      }
    } else if (sel.method === 'pcp') {
      grant = await this.#pcp(gw.address, req, preferred, opts)
    } else {
      grant = await this.#natpmp(gw.address, gw.localAddress, req, preferred, opts)
    }
    const mapping = this.#mapping(sel.method, req, grant, gw.address)
    return {
      mapping,
      restarted: grant.restarted,
      warning: externalAddressWarning(grant.externalAddress, gw.address),
    }
  }

  async #pcp(gateway: string, req: MapRequest, preferred: number, opts: PcpRequestOptions): Promise<Grant> {
    const args = { protocol: req.protocol, internalPort: req.internalPort, nonce: req.nonce }
    const g = await pcpMap(gateway, { ...args, externalPort: preferred, lifetime: req.ttl }, opts)
    const restarted = this.#epochs.check('pcp', gateway, g.epoch)
    if (req.exactExternalPort && g.externalPort !== preferred) {
      await pcpMap(gateway, { ...args, externalPort: 0, lifetime: 0 }, opts).catch((err: unknown) =>
        debug('could not give back port %d: %s', g.externalPort, (err as Error).message),
      )
      throw NatError.PORT_IN_USE(preferred, req.protocol)
    }
    return {
      internalAddress: g.internalAddress,
      externalAddress:
        g.externalAddress === '0.0.0.0' || g.externalAddress === '::' ? null : g.externalAddress,
      externalPort: g.externalPort,
      ttl: g.lifetime,
      restarted,
    }
  }

  async #natpmp(
    gateway: string,
    localAddress: string,
    req: MapRequest,
    preferred: number,
    opts: RequestOptions,
  ): Promise<Grant> {
    const g = await natpmpMap(gateway, { ...req, externalPort: preferred }, opts)
    let restarted = this.#epochs.check('natpmp', gateway, g.epoch)
    if (req.exactExternalPort && g.externalPort !== preferred) {
      await natpmpUnmap(gateway, req, opts).catch((err: unknown) =>
        debug('could not give back port %d: %s', g.externalPort, (err as Error).message),
      )
      throw NatError.PORT_IN_USE(preferred, req.protocol)
    }
    const ext = await this.#natpmpExternal(gateway, opts)
    restarted ||= ext.restarted
    return {
      internalAddress: localAddress,
      externalAddress: ext.address,
      externalPort: g.externalPort,
      ttl: g.ttl,
      restarted,
    }
  }

  /** Deletes a mapping on its gateway; a mapping already gone (UPnP 714) counts as removed. */
  async remove(mapping: Mapping, req: MapRequest, opts: RequestOptions): Promise<void> {
    if (mapping.method === 'pcp') {
      // RFC 6887 section 15: lifetime 0 with the mapping's nonce, protocol and internal port.
      const args = { protocol: mapping.protocol, internalPort: mapping.internalPort, nonce: req.nonce }
      const v6 = mapping.family === 6 ? this.#ipv6 : undefined
      const where = v6
        ? { ...opts, localAddress: mapping.internalAddress, ...(v6.port ? { port: v6.port } : {}) }
        : opts
      await pcpMap(mapping.gateway, { ...args, externalPort: 0, lifetime: 0 }, where)
      return
    }
    if (mapping.method === 'natpmp') {
      await natpmpUnmap(mapping.gateway, mapping, opts)
      return
    }
    if (mapping.family === 6) return this.#pinholes.remove(await this.#ipv6Gateway(opts), mapping, opts)
    const upnp = this.#pool.find(mapping.gateway)?.upnp ?? (await this.#pool.select(opts, 'upnp', true)).upnp
    if (upnp === undefined) throw NatError.NO_GATEWAY(0, 'a UPnP gateway')
    try {
      await upnp.deletePortMapping(mapping.externalPort, mapping.protocol, opts)
    } catch (err) {
      if (!(err instanceof NatError && err.upnpCode === UPNP_ERROR.NO_SUCH_ENTRY)) throw err
    }
  }
}
