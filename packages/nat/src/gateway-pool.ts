// The gateways one NatClient works with: discovered once (lazily), shared by concurrent callers,
// searched again after a failure, picked by the caller's protocol preference, and searched by UPnP
// alone when UPnP is needed but the fast discovery returned before an SSDP answer came.

import { anySignal } from './abort.js'
import { ipv4Interfaces } from './address.js'
import { DEFAULT_DISCOVERY_TIMEOUT_MS } from './constants.js'
import { type DiscoveredGateway, type DiscoverOptions, type Discovery, discover } from './discovery.js'
import { NatError } from './errors.js'
import type { MappingMethod } from './types.js'
import type { UpnpClient } from './upnp-client.js'

export type Selected =
  | { method: 'upnp'; gateway: DiscoveredGateway; upnp: UpnpClient }
  | { method: 'natpmp' | 'pcp'; gateway: DiscoveredGateway; upnp: undefined }

type Found = { gateways: DiscoveredGateway[]; upnpCutShort: boolean }

export class GatewayPool {
  readonly #opts: Omit<DiscoverOptions, 'signal'>
  readonly #methods: readonly MappingMethod[]
  readonly #lifetime: AbortSignal
  #found: Found | undefined
  #discovering: Promise<Discovery> | undefined

  /** `lifetime` ends searches in flight (the owner's close()). */
  constructor(
    opts: Omit<DiscoverOptions, 'signal'>,
    methods: readonly MappingMethod[],
    lifetime: AbortSignal,
  ) {
    const natpmp = opts.natpmp !== false
    this.#opts = {
      ...opts,
      upnp: opts.upnp !== false && methods.includes('upnp'),
      natpmp: natpmp && methods.includes('natpmp'),
      pcp: (opts.pcp ?? natpmp) && methods.includes('pcp'),
    }
    this.#methods = methods
    this.#lifetime = lifetime
  }

  /** Forget what was found: the next call searches again. */
  invalidate(): void {
    this.#found = undefined
  }

  find(address: string): DiscoveredGateway | undefined {
    return this.#found?.gateways.find((g) => g.info.address === address)
  }

  #run(
    opts: Omit<DiscoverOptions, 'signal'>,
    signal: AbortSignal | undefined,
    final: boolean,
  ): Promise<Discovery> {
    const withSignal = (s: AbortSignal | undefined) => ({
      ...this.#opts,
      ...opts,
      ...(s ? { signal: s } : {}),
    })
    // `final` (the unmaps of close()) searches without the lifetime signal, so close() does not cut
    // its own clean-up short.
    if (final) return discover(withSignal(signal))
    return discover(withSignal(anySignal(signal, this.#lifetime)))
  }

  /** The gateways, searching when none are known. */
  async get(
    opts: { signal?: AbortSignal; timeout?: number } = {},
    final = false,
  ): Promise<DiscoveredGateway[]> {
    if (this.#found !== undefined) return this.#found.gateways
    const timeout = opts.timeout !== undefined ? { timeout: opts.timeout } : {}
    if (final) {
      this.#found = await this.#run(timeout, opts.signal, true)
      return this.#found.gateways
    }
    this.#discovering ??= this.#run(timeout, opts.signal, false).finally(() => {
      this.#discovering = undefined
    })
    this.#found = await this.#discovering
    return this.#found.gateways
  }

  /** Searches by UPnP alone and adds what it finds to the gateways known. */
  async #searchUpnp(signal: AbortSignal | undefined, final: boolean): Promise<void> {
    const found = this.#found
    if (found === undefined) return
    found.upnpCutShort = false
    const more = await this.#run({ natpmp: false, pcp: false, upnp: true }, signal, final)
    for (const g of more.gateways) {
      if (g.upnp === undefined || g.info.upnp === undefined) continue
      const known = found.gateways.find((k) => k.info.address === g.info.address)
      if (known === undefined) found.gateways.push(g)
      else if (known.upnp === undefined) {
        known.upnp = g.upnp
        known.info.upnp = g.info.upnp
        known.info.protocols = [...known.info.protocols, ...g.info.protocols]
      }
    }
  }

  #pick(gateways: DiscoveredGateway[], methods: readonly MappingMethod[]): Selected | undefined {
    for (const m of methods) {
      for (const g of gateways) {
        if (m === 'upnp' && g.upnp !== undefined) return { method: m, gateway: g, upnp: g.upnp }
        if (m === 'pcp' && g.info.pcp !== undefined) return { method: m, gateway: g, upnp: undefined }
        if (m === 'natpmp' && g.info.natpmp !== undefined) return { method: m, gateway: g, upnp: undefined }
      }
    }
    return undefined
  }

  /** The first gateway speaking `method` (default: the preference order); ERR_NO_GATEWAY if none. */
  async select(opts: { signal?: AbortSignal }, method?: MappingMethod, final = false): Promise<Selected> {
    const methods = method ? [method] : this.#methods
    const gateways = await this.get(opts.signal ? { signal: opts.signal } : {}, final)
    let picked = this.#pick(gateways, methods)
    if (picked === undefined && methods.includes('upnp') && this.#opts.upnp && this.#found?.upnpCutShort) {
      await this.#searchUpnp(opts.signal, final)
      picked = this.#pick(this.#found?.gateways ?? [], methods)
    }
    if (picked !== undefined) return picked
    this.invalidate()
    const where = ipv4Interfaces(this.#opts.interfaces).map((i) => `${i.name} ${i.address}`)
    throw NatError.NO_GATEWAY(
      this.#opts.timeout ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      where.join(', ') || 'no IPv4 interface',
    )
  }
}
