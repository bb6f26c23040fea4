// The one object users hold: finds a gateway, maps ports on it, and leaves keeping them (renewal,
// restoration) to the MappingKeeper; removes every mapping it made on close().
import { EventEmitter } from 'node:events'
import createDebug from 'debug'
import { anySignal } from './abort.js'
import { type AnnounceWatchOptions, watchAnnounces } from './announce-watch.js'
import { type Clock, systemClock } from './clock.js'
import { DEFAULT_REQUEST_TIMEOUT_MS } from './constants.js'
import type { DiscoverOptions } from './discovery.js'
import { NatError } from './errors.js'
import { GatewayPool } from './gateway-pool.js'
import { type MapOptions, toMapRequest } from './map-request.js'
import { asNatError, MappingKeeper, type NatClientEvents } from './mapping-keeper.js'
import type { PcpAnnounceListener } from './pcp-announce-listener.js'
import { type Ipv6Gateway, PortMapper } from './port-mapper.js'
import type {
  ExternalAddress,
  Gateway,
  Mapping,
  MappingEntry,
  MappingMethod,
  NatWarning,
  Protocol,
  RequestOptions,
} from './types.js'
import { externalAddressWarning } from './warnings.js'

const debug = createDebug('pyp2p:nat')

export type { MapOptions } from './map-request.js'
export type { NatClientEvents } from './mapping-keeper.js'
export type { Ipv6Gateway } from './port-mapper.js'

/** Protocols to map with, preferred first (RFC 6887 section 9: PCP, then NAT-PMP; then UPnP). */
export const DEFAULT_METHODS: readonly MappingMethod[] = ['pcp', 'natpmp', 'upnp']

export interface NatClientOptions extends Omit<DiscoverOptions, 'signal'> {
  /** protocols to map with, preferred first; default ['pcp', 'natpmp', 'upnp'] */
  methods?: readonly MappingMethod[]
  /** renew leases before they expire and put lost mappings back; default true */
  autoRenew?: boolean
  /** time source for lease expiry and epoch checks; default the system clock */
  clock?: Clock
  /**
   * where `map({ family: 6 })` asks for IPv6 pinholes (PCP): the gateway's address (a link-local one
   * with its zone, 'fe80::1%eth0', is fine), our address to map (default: our address on that link
   * from the routing table), and its PCP port (default 5351). Default: the IPv6 default route.
   */
  ipv6Gateway?: Ipv6Gateway
  /**
   * listen for a PCP server's unsolicited ANNOUNCE (RFC 6887 section 14.1.3, UDP 5350) while holding
   * PCP mappings, and put them back as soon as one shows the gateway restarted (after a random wait of
   * up to `maxDelayMs`, default 5000) rather than at the next renewal. `false` turns it off. Default {}
   */
  pcpAnnounce?: false | AnnounceWatchOptions
}

export class NatClient extends EventEmitter<NatClientEvents> {
  readonly #requestTimeout: number
  /** aborted by close(): ends discovery, requests and renewals in flight (not the final unmaps) */
  readonly #lifetime = new AbortController()
  readonly #pool: GatewayPool
  readonly #mapper: PortMapper
  readonly #keeper: MappingKeeper
  readonly #announce: PcpAnnounceListener | undefined
  #closing: Promise<void> | undefined

  constructor(opts: NatClientOptions = {}) {
    super()
    const clock = opts.clock ?? systemClock
    this.#requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.#pool = new GatewayPool(opts, opts.methods ?? DEFAULT_METHODS, this.#lifetime.signal)
    this.#mapper = new PortMapper(this.#pool, clock, {
      methods: opts.methods ?? DEFAULT_METHODS,
      ...(opts.ipv6Gateway ? { ipv6Gateway: opts.ipv6Gateway } : {}),
    })
    this.#keeper = new MappingKeeper({
      pool: this.#pool,
      mapper: this.#mapper,
      clock,
      events: this,
      autoRenew: opts.autoRenew !== false,
      req: (o, final) => this.#req(o, final),
      closed: () => this.closed,
    })
    if (opts.pcpAnnounce !== false)
      this.#announce = watchAnnounces(this.#keeper, this.#mapper, opts.pcpAnnounce ?? {}, (a) =>
        this.emit('pcp:announce', a),
      )
  }

  get closed(): boolean {
    return this.#closing !== undefined
  }

  /** Mappings this client holds now. */
  mappings(): Mapping[] {
    return this.#keeper.mappings()
  }

  /** Searches again for gateways (map() does it once by itself) and returns what answered. */
  async discover(opts: { signal?: AbortSignal; timeout?: number } = {}): Promise<Gateway[]> {
    this.#assertOpen()
    this.#pool.invalidate()
    return (await this.#pool.get(opts)).map((g) => g.info)
  }

  /** Request options bounded by the caller's signal and, unless `final`, by this client's lifetime. */
  #req(opts: RequestOptions, final = false): RequestOptions {
    const signals = [...(opts.signal ? [opts.signal] : []), ...(final ? [] : [this.#lifetime.signal])]
    const signal = signals.length === 0 ? undefined : anySignal(...signals)
    return { timeout: opts.timeout ?? this.#requestTimeout, ...(signal ? { signal } : {}) }
  }

  #warn(warning: NatWarning | undefined): void {
    if (warning !== undefined) this.emit('warning', warning)
  }

  /** The gateway's external address; emits `warning` when it is private or missing (double NAT). */
  async externalIp(opts: RequestOptions = {}): Promise<ExternalAddress> {
    this.#assertOpen()
    const sel = await this.#pool.select(this.#req(opts))
    const gateway = sel.gateway.info.address
    const ext = await this.#mapper.externalAddress(sel, this.#req(opts))
    if (ext.restarted) this.#keeper.restoreAll(gateway, sel.method)
    const warning = externalAddressWarning(ext.address, gateway)
    this.#warn(warning)
    return { address: ext.address, method: sel.method, gateway, private: warning !== undefined }
  }

  /** Maps a port and keeps it (renewing the lease) until unmap() or close(). */
  async map(opts: MapOptions): Promise<Mapping> {
    this.#assertOpen()
    const req = toMapRequest(opts)
    if (this.#keeper.get(req.protocol, req.internalPort, req.family)) await this.unmap(req, opts)
    const result = await this.#mapper.establish(req, req.externalPort, this.#req(opts))
    if (this.closed) {
      await this.#mapper.remove(result.mapping, req, this.#req({}, true)).catch((err: unknown) => {
        this.emit('mapping:error', asNatError(err, 'unmapping'), result.mapping)
      })
      throw NatError.CLOSED()
    }
    this.#warn(result.warning)
    const mapping = this.#keeper.hold(req, result)
    if (mapping.method === 'pcp') await this.#announce?.start()
    return mapping
  }

  /** Removes a mapping this client made (by the mapping, or by internal port and protocol). */
  async unmap(
    target: Pick<Mapping, 'internalPort'> & { protocol?: Protocol; family?: 4 | 6 },
    opts: RequestOptions = {},
  ): Promise<void> {
    this.#assertOpen()
    const held = this.#keeper.get(target.protocol ?? 'TCP', target.internalPort, target.family)
    if (held === undefined) throw NatError.NOT_MAPPED(target.internalPort, target.protocol ?? 'TCP')
    await this.#keeper.release(held)
    await this.#mapper.remove(held.mapping, held.req, this.#req(opts))
  }

  /** The router's mapping table (UPnP only; PCP and NAT-PMP cannot list). */
  async list(opts: RequestOptions = {}): Promise<MappingEntry[]> {
    this.#assertOpen()
    const upnp = await this.#pool.select(this.#req(opts), 'upnp').then(
      (s) => s.upnp,
      (err: unknown) => {
        if (err instanceof NatError && err.code === 'ERR_NO_GATEWAY') return undefined
        throw err
      },
    )
    if (upnp === undefined) {
      const gateways = await this.#pool.get(this.#req(opts))
      if (gateways.length === 0) throw NatError.NO_GATEWAY(0, 'any interface')
      throw NatError.NOT_SUPPORTED("Listing the router's mappings over PCP or NAT-PMP")
    }
    const own = this.mappings().filter((m) => m.method === 'upnp')
    return (await upnp.list(this.#req(opts))).map((e) => ({
      protocol: e.protocol,
      externalPort: e.externalPort,
      internalAddress: e.internalClient,
      internalPort: e.internalPort,
      description: e.description,
      enabled: e.enabled,
      ttl: e.leaseDuration,
      own: own.some((m) => m.externalPort === e.externalPort && m.protocol === e.protocol),
    }))
  }

  /**
   * Stops renewals and removes every mapping this client made. Idempotent; never rejects (a
   * mapping that could not be removed is reported with `mapping:error`); safe in signal handlers.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#lifetime.abort(NatError.CLOSED())
      this.#announce?.close()
      await Promise.all(
        this.#keeper.drain().map(async (h) => {
          await h.busy
          try {
            await this.#mapper.remove(h.mapping, h.req, this.#req({}, true))
          } catch (err) {
            const m = h.mapping
            debug('could not remove %s:%d: %s', m.protocol, m.externalPort, (err as Error).message)
            this.emit('mapping:error', asNatError(err, 'unmapping'), m)
          }
        }),
      )
    })()
    return this.#closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #assertOpen(): void {
    if (this.closed) throw NatError.CLOSED()
  }
}
