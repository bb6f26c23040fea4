// The one object users hold: finds a gateway, maps ports on it, renews the leases, puts mappings
// back after the router lost them, and removes every mapping it made on close().
import { EventEmitter } from 'node:events'
import createDebug from 'debug'
import {
  DEFAULT_DESCRIPTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TTL_S,
  MIN_TTL_S,
  PERMANENT_CHECK_MS,
  RENEW_AT_FRACTION,
  RENEW_RETRY_MIN_MS,
  RENEW_RETRY_MS,
} from './constants.js'
import type { DiscoverOptions } from './discovery.js'
import { NatError } from './errors.js'
import { GatewayPool } from './gateway-pool.js'
import { type Established, type MapRequest, PortMapper } from './port-mapper.js'
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

export interface NatClientOptions extends Omit<DiscoverOptions, 'signal'> {
  /** protocols to map with, preferred first; default ['upnp', 'natpmp'] */
  methods?: readonly MappingMethod[]
  /** renew leases before they expire and put lost mappings back; default true */
  autoRenew?: boolean
}

export interface MapOptions extends RequestOptions {
  internalPort: number
  /** external port to ask for; default the internal port */
  externalPort?: number
  /** fail with ERR_PORT_IN_USE rather than take another external port; default false */
  exactExternalPort?: boolean
  /** default 'TCP' */
  protocol?: Protocol
  /** lease to ask for, seconds; default 7200. Renewed at half-time while the client is open */
  ttl?: number
  /** shown in the router's table (UPnP); default 'pyp2p' */
  description?: string
}

export interface NatClientEvents {
  warning: [NatWarning]
  'mapping:renewed': [Mapping]
  /** the router had lost the mapping (restart, NAT-PMP epoch reset) and it was put back */
  'mapping:restored': [Mapping]
  /** a renewal (or a removal in close()) failed; renewals are retried */
  'mapping:error': [NatError, Mapping]
}

interface Held {
  key: string
  mapping: Mapping
  req: MapRequest
  timer: NodeJS.Timeout | undefined
  busy: Promise<void> | undefined
  /** the router is known to have lost it: the next renewal is a restoration */
  lost: boolean
}

const keyOf = (protocol: Protocol, internalPort: number) => `${protocol}:${internalPort}`

function checkPort(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw NatError.INVALID_ARGUMENT(`${name} must be an integer port 1..65535, got ${String(value)}`)
  }
  return value
}

const asNatError = (err: unknown, what: string): NatError =>
  err instanceof NatError
    ? err
    : NatError.GATEWAY(what, String((err as Error)?.message ?? err), { cause: err })

export class NatClient extends EventEmitter<NatClientEvents> {
  readonly #opts: NatClientOptions
  readonly #requestTimeout: number
  /** aborted by close(): ends discovery, requests and renewals in flight (not the final unmaps) */
  readonly #lifetime = new AbortController()
  readonly #pool: GatewayPool
  readonly #mapper: PortMapper
  readonly #held = new Map<string, Held>()
  #closing: Promise<void> | undefined

  constructor(opts: NatClientOptions = {}) {
    super()
    this.#opts = opts
    this.#requestTimeout = opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.#pool = new GatewayPool(opts, opts.methods ?? ['upnp', 'natpmp'], this.#lifetime.signal)
    this.#mapper = new PortMapper(this.#pool)
  }

  get closed(): boolean {
    return this.#closing !== undefined
  }

  /** Mappings this client holds now. */
  mappings(): Mapping[] {
    return [...this.#held.values()].map((h) => h.mapping)
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
    const signal = signals.length <= 1 ? signals[0] : AbortSignal.any(signals)
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
    let address: string | null
    if (sel.upnp) address = await sel.upnp.externalIp(this.#req(opts))
    else {
      const ext = await this.#mapper.natpmpExternal(gateway, this.#req(opts))
      if (ext.restarted) this.#restoreAll(gateway)
      address = ext.address
    }
    const warning = externalAddressWarning(address, gateway)
    this.#warn(warning)
    return { address, method: sel.method, gateway, private: warning !== undefined }
  }

  /** Maps a port and keeps it (renewing the lease) until unmap() or close(). */
  async map(opts: MapOptions): Promise<Mapping> {
    this.#assertOpen()
    const internalPort = checkPort(opts.internalPort, 'internalPort')
    const externalPort =
      opts.externalPort === undefined ? internalPort : checkPort(opts.externalPort, 'externalPort')
    const protocol = opts.protocol ?? 'TCP'
    if (protocol !== 'TCP' && protocol !== 'UDP')
      throw NatError.INVALID_ARGUMENT("protocol must be 'TCP' or 'UDP'")
    const ttl = opts.ttl ?? DEFAULT_TTL_S
    if (!Number.isInteger(ttl) || ttl < MIN_TTL_S) {
      throw NatError.INVALID_ARGUMENT(`ttl must be an integer number of seconds >= ${MIN_TTL_S}`)
    }
    // Control characters would break the router's table.
    const description = (opts.description ?? DEFAULT_DESCRIPTION).replace(/\p{Cc}/gu, ' ').slice(0, 255)
    const key = keyOf(protocol, internalPort)
    if (this.#held.has(key)) await this.unmap({ internalPort, protocol }, opts)
    const req: MapRequest = {
      internalPort,
      protocol,
      ttl,
      description,
      exactExternalPort: opts.exactExternalPort ?? false,
      externalPort,
    }
    const result = await this.#mapper.establish(req, externalPort, this.#req(opts))
    const { mapping } = result
    if (this.closed) {
      await this.#mapper.remove(mapping, this.#req({}, true)).catch((err: unknown) => {
        this.emit('mapping:error', asNatError(err, 'unmapping'), mapping)
      })
      throw NatError.CLOSED()
    }
    this.#warn(result.warning)
    if (result.restarted) this.#restoreAll(mapping.gateway)
    const held: Held = { key, mapping, req, lost: false, timer: undefined, busy: undefined }
    this.#held.set(key, held)
    this.#schedule(held)
    return mapping
  }

  /** A NAT-PMP gateway restarted: put its other mappings back now, not at their next renewal. */
  #restoreAll(gateway: string): void {
    for (const held of this.#held.values()) {
      if (held.mapping.method !== 'natpmp' || held.mapping.gateway !== gateway || held.busy) continue
      held.lost = true
      this.#schedule(held, 0)
    }
  }

  #schedule(held: Held, delay?: number): void {
    if (held.timer !== undefined) clearTimeout(held.timer)
    held.timer = undefined
    if (this.closed || this.#opts.autoRenew === false) return
    const m = held.mapping
    const wait = delay ?? (m.permanent ? PERMANENT_CHECK_MS : m.ttl * 1000 * RENEW_AT_FRACTION)
    held.timer = setTimeout(() => {
      held.timer = undefined
      held.busy = this.#renew(held).finally(() => {
        held.busy = undefined
      })
    }, wait)
    held.timer.unref()
  }

  async #renew(held: Held): Promise<void> {
    const old = held.mapping
    try {
      let lost = held.lost
      if (old.method === 'upnp') {
        // Ask first, so that a mapping the router lost (restart) is reported as restored.
        const { upnp } = await this.#pool.select(this.#req({}), 'upnp')
        if (upnp === undefined) throw NatError.NO_GATEWAY(0, 'a UPnP gateway')
        const entry = await upnp.getSpecificEntry(old.externalPort, old.protocol, this.#req({}))
        lost ||=
          entry === undefined ||
          entry.internalClient !== old.internalAddress ||
          entry.internalPort !== old.internalPort
        if (old.permanent && !lost) return this.#schedule(held)
      }
      let result: Established
      try {
        // Keep the external port we have; take another only if it was lost to someone else.
        result = await this.#mapper.establish(
          { ...held.req, exactExternalPort: true },
          old.externalPort,
          this.#req({}),
          old.method,
        )
      } catch (err) {
        if (!(err instanceof NatError && err.code === 'ERR_PORT_IN_USE') || held.req.exactExternalPort)
          throw err
        result = await this.#mapper.establish(held.req, old.externalPort, this.#req({}), old.method)
      }
      const { mapping } = result
      lost ||= result.restarted || mapping.externalPort !== old.externalPort
      if (this.closed || this.#held.get(held.key) !== held) {
        await this.#mapper.remove(mapping, this.#req({}, true))
        return
      }
      if (result.restarted) this.#restoreAll(mapping.gateway)
      held.mapping = mapping
      held.lost = false
      this.#schedule(held)
      this.emit(lost ? 'mapping:restored' : 'mapping:renewed', mapping)
    } catch (err) {
      if (this.closed) return
      const error = asNatError(err, 'renewing a mapping')
      debug('renewal of %s:%d failed: %s', old.protocol, old.externalPort, error.message)
      // A gateway that stopped answering may have restarted elsewhere (new HTTP port): search again.
      if (error.upnpCode === undefined && error.natpmpCode === undefined) this.#pool.invalidate()
      const left = old.expiresAt === null ? RENEW_RETRY_MS : (old.expiresAt - Date.now()) / 2
      this.#schedule(held, Math.max(RENEW_RETRY_MIN_MS, Math.min(RENEW_RETRY_MS, left)))
      this.emit('mapping:error', error, old)
    }
  }

  /** Removes a mapping this client made (by the mapping, or by internal port and protocol). */
  async unmap(
    target: Pick<Mapping, 'internalPort'> & { protocol?: Protocol },
    opts: RequestOptions = {},
  ): Promise<void> {
    this.#assertOpen()
    const held = this.#held.get(keyOf(target.protocol ?? 'TCP', target.internalPort))
    if (held === undefined) throw NatError.NOT_MAPPED(target.internalPort, target.protocol ?? 'TCP')
    this.#held.delete(held.key)
    if (held.timer !== undefined) clearTimeout(held.timer)
    await held.busy
    await this.#mapper.remove(held.mapping, this.#req(opts))
  }

  /** The router's mapping table (UPnP only; NAT-PMP cannot list). */
  async list(opts: RequestOptions = {}): Promise<MappingEntry[]> {
    this.#assertOpen()
    const gateways = await this.#pool.get(this.#req(opts))
    if (!gateways.some((g) => g.upnp) && gateways.some((g) => g.info.natpmp)) {
      throw NatError.NOT_SUPPORTED("Listing the router's mappings over NAT-PMP")
    }
    const { upnp } = await this.#pool.select(this.#req(opts), 'upnp')
    if (upnp === undefined) throw NatError.NOT_SUPPORTED("Listing the router's mappings over NAT-PMP")
    const own = [...this.#held.values()].map((h) => h.mapping).filter((m) => m.method === 'upnp')
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
      const held = [...this.#held.values()]
      this.#held.clear()
      for (const h of held) if (h.timer !== undefined) clearTimeout(h.timer)
      await Promise.all(
        held.map(async (h) => {
          await h.busy
          try {
            await this.#mapper.remove(h.mapping, this.#req({}, true))
          } catch (err) {
            debug(
              'could not remove %s:%d: %s',
              h.mapping.protocol,
              h.mapping.externalPort,
              (err as Error).message,
            )
            this.emit('mapping:error', asNatError(err, 'unmapping'), h.mapping)
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
