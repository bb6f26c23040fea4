// Keeps the mappings a NatClient made: renews each at half its lease, notices a mapping the router
// lost (restart: PCP/NAT-PMP epoch, UPnP entry gone, another port given on renewal) and puts it back,
// retries failed renewals, and removes everything on close.
import type { EventEmitter } from 'node:events'
import createDebug from 'debug'
import type { Clock } from './clock.js'
import { PERMANENT_CHECK_MS, RENEW_AT_FRACTION, RENEW_RETRY_MIN_MS, RENEW_RETRY_MS } from './constants.js'
import { NatError } from './errors.js'
import type { GatewayPool } from './gateway-pool.js'
import type { MapRequest } from './map-request.js'
import type { Established, PortMapper } from './port-mapper.js'
import type { Mapping, MappingMethod, NatWarning, Protocol, RequestOptions } from './types.js'

const debug = createDebug('pyp2p:nat')

export interface NatClientEvents {
  warning: [NatWarning]
  'mapping:renewed': [Mapping]
  /** the router had lost the mapping (restart, epoch reset, entry gone) and it was put back */
  'mapping:restored': [Mapping]
  /** a renewal (or a removal in close()) failed; renewals are retried */
  'mapping:error': [NatError, Mapping]
  /** a PCP gateway holding our mappings sent an unsolicited ANNOUNCE (RFC 6887 section 14.1.3) */
  'pcp:announce': [{ gateway: string; epoch: number; restarted: boolean }]
}

export interface Held {
  key: string
  mapping: Mapping
  req: MapRequest
  timer: NodeJS.Timeout | undefined
  busy: Promise<void> | undefined
  /** the router is known to have lost it: the next renewal is a restoration */
  lost: boolean
}

export const keyOf = (protocol: Protocol, internalPort: number, family: 4 | 6 = 4) =>
  `${protocol}:${internalPort}:${family}`

export const asNatError = (err: unknown, what: string): NatError =>
  err instanceof NatError
    ? err
    : NatError.GATEWAY(what, String((err as Error)?.message ?? err), { cause: err })

export interface KeeperDeps {
  pool: GatewayPool
  mapper: PortMapper
  clock: Clock
  events: EventEmitter<NatClientEvents>
  autoRenew: boolean
  /** request options for renewals (bounded by the client's lifetime) and for final removals */
  req(opts: RequestOptions, final?: boolean): RequestOptions
  closed(): boolean
}

export class MappingKeeper {
  readonly #d: KeeperDeps
  readonly #held = new Map<string, Held>()

  constructor(deps: KeeperDeps) {
    this.#d = deps
  }

  mappings(): Mapping[] {
    return [...this.#held.values()].map((h) => h.mapping)
  }

  get(protocol: Protocol, internalPort: number, family: 4 | 6 = 4): Held | undefined {
    return this.#held.get(keyOf(protocol, internalPort, family))
  }

  has(key: string): boolean {
    return this.#held.has(key)
  }

  /** Starts keeping a fresh mapping; a restart the first reply showed re-maps the others. */
  hold(req: MapRequest, result: Established): Mapping {
    const { mapping } = result
    if (result.restarted) this.restoreAll(mapping.gateway, mapping.method)
    const held: Held = {
      key: keyOf(req.protocol, req.internalPort, req.family),
      mapping,
      req,
      lost: false,
      timer: undefined,
      busy: undefined,
    }
    this.#held.set(held.key, held)
    this.#schedule(held)
    return mapping
  }

  /** Stops keeping one mapping (waits for a renewal in flight); the caller removes it. */
  async release(held: Held): Promise<void> {
    this.#held.delete(held.key)
    if (held.timer !== undefined) clearTimeout(held.timer)
    await held.busy
  }

  /** Takes every mapping out (close()): stops timers; returns them for removal. */
  drain(): Held[] {
    const all = [...this.#held.values()]
    this.#held.clear()
    for (const h of all) if (h.timer !== undefined) clearTimeout(h.timer)
    return all
  }

  /** A PCP/NAT-PMP gateway restarted: put its other mappings back now (or after `delayMs`), not at
   * their next renewal. */
  restoreAll(gateway: string, method: MappingMethod, delayMs = 0): void {
    if (method === 'upnp') return
    for (const held of this.#held.values()) {
      if (held.mapping.method !== method || held.mapping.gateway !== gateway || held.busy) continue
      held.lost = true
      this.#schedule(held, delayMs)
    }
  }

  #schedule(held: Held, delay?: number): void {
    if (held.timer !== undefined) clearTimeout(held.timer)
    held.timer = undefined
    if (this.#d.closed() || !this.#d.autoRenew) return
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
    const { pool, mapper, events } = this.#d
    const req = (final = false) => this.#d.req({}, final)
    const old = held.mapping
    try {
      let lost = held.lost
      if (old.method === 'upnp' && old.family === 4) {
        // Ask first, so that a mapping the router lost (restart) is reported as restored.
        const { upnp } = await pool.select(req(), 'upnp')
        if (upnp === undefined) throw NatError.NO_GATEWAY(0, 'a UPnP gateway')
        const entry = await upnp.getSpecificEntry(old.externalPort, old.protocol, req())
        lost ||=
          entry === undefined ||
          entry.internalClient !== old.internalAddress ||
          entry.internalPort !== old.internalPort
        if (old.permanent && !lost) return this.#schedule(held)
      }
      let result: Established
      try {
        // Keep the external port we have; take another only if it was lost to someone else.
        const exact = { ...held.req, exactExternalPort: true }
        result = await mapper.establish(exact, old.externalPort, req(), old.method, old)
      } catch (err) {
        if (!(err instanceof NatError && err.code === 'ERR_PORT_IN_USE') || held.req.exactExternalPort)
          throw err
        result = await mapper.establish(held.req, old.externalPort, req(), old.method, old)
      }
      const { mapping } = result
      // Another external port means the router had dropped ours (silently or not) and gave it away.
      lost ||= result.restarted || mapping.externalPort !== old.externalPort
      if (this.#d.closed() || this.#held.get(held.key) !== held) {
        await mapper.remove(mapping, held.req, req(true))
        return
      }
      if (result.restarted) this.restoreAll(mapping.gateway, mapping.method)
      held.mapping = mapping
      held.lost = false
      this.#schedule(held)
      events.emit(lost ? 'mapping:restored' : 'mapping:renewed', mapping)
    } catch (err) {
      if (this.#d.closed()) return
      const error = asNatError(err, 'renewing a mapping')
      debug('renewal of %s:%d failed: %s', old.protocol, old.externalPort, error.message)
      // A gateway that stopped answering may have restarted elsewhere (new HTTP port): search again.
      if (error.upnpCode === undefined && error.natpmpCode === undefined && error.pcpCode === undefined)
        pool.invalidate()
      const left = old.expiresAt === null ? RENEW_RETRY_MS : (old.expiresAt - this.#d.clock.now()) / 2
      this.#schedule(held, Math.max(RENEW_RETRY_MIN_MS, Math.min(RENEW_RETRY_MS, left)))
      events.emit('mapping:error', error, old)
    }
  }
}
