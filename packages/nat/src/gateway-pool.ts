// The gateways one NatClient works with: discovered once (lazily), shared by concurrent callers,
// searched again after a failure, and picked by the caller's protocol preference.
import { ipv4Interfaces } from './address.js'
import { DEFAULT_DISCOVERY_TIMEOUT_MS } from './constants.js'
import { type DiscoveredGateway, type DiscoverOptions, discover } from './discovery.js'
import { NatError } from './errors.js'
import type { MappingMethod } from './types.js'
import type { UpnpClient } from './upnp-client.js'

export type Selected =
  | { method: 'upnp'; gateway: DiscoveredGateway; upnp: UpnpClient }
  | { method: 'natpmp'; gateway: DiscoveredGateway; upnp: undefined }

export class GatewayPool {
  readonly #opts: Omit<DiscoverOptions, 'signal'>
  readonly #methods: readonly MappingMethod[]
  readonly #lifetime: AbortSignal
  #gateways: DiscoveredGateway[] | undefined
  #discovering: Promise<DiscoveredGateway[]> | undefined

  /** `lifetime` ends searches in flight (the owner's close()). */
  constructor(
    opts: Omit<DiscoverOptions, 'signal'>,
    methods: readonly MappingMethod[],
    lifetime: AbortSignal,
  ) {
    this.#opts = opts
    this.#methods = methods
    this.#lifetime = lifetime
  }

  /** Forget what was found: the next call searches again. */
  invalidate(): void {
    this.#gateways = undefined
  }

  find(address: string): DiscoveredGateway | undefined {
    return this.#gateways?.find((g) => g.info.address === address)
  }

  /**
   * The gateways, searching when none are known. `final` (for the unmaps of close()) searches
   * without the lifetime signal, so close() does not cut its own clean-up short.
   */
  async get(
    opts: { signal?: AbortSignal; timeout?: number } = {},
    final = false,
  ): Promise<DiscoveredGateway[]> {
    if (this.#gateways !== undefined) return this.#gateways
    const timeout = opts.timeout !== undefined ? { timeout: opts.timeout } : {}
    if (final) {
      this.#gateways = await discover({
        ...this.#opts,
        ...timeout,
        ...(opts.signal ? { signal: opts.signal } : {}),
      })
      return this.#gateways
    }
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.#lifetime]) : this.#lifetime
    this.#discovering ??= discover({ ...this.#opts, ...timeout, signal }).finally(() => {
      this.#discovering = undefined
    })
    this.#gateways = await this.#discovering
    return this.#gateways
  }

  /** The first gateway speaking `method` (default: the preference order); ERR_NO_GATEWAY if none. */
  async select(opts: { signal?: AbortSignal }, method?: MappingMethod, final = false): Promise<Selected> {
    const gateways = await this.get(opts.signal ? { signal: opts.signal } : {}, final)
    for (const m of method ? [method] : this.#methods) {
      for (const g of gateways) {
        if (m === 'upnp' && g.upnp !== undefined) return { method: m, gateway: g, upnp: g.upnp }
        if (m === 'natpmp' && g.info.natpmp !== undefined) return { method: m, gateway: g, upnp: undefined }
      }
    }
    this.invalidate()
    const where = ipv4Interfaces(this.#opts.interfaces).map((i) => `${i.name} ${i.address}`)
    throw NatError.NO_GATEWAY(
      this.#opts.timeout ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      where.join(', ') || 'no IPv4 interface',
    )
  }
}
