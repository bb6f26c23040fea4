// Finding gateways: SSDP M-SEARCH on every IPv4 interface (UPnP IGD v1/v2) and a NAT-PMP external
// address request to each default gateway (and to each UPnP gateway found), all within one deadline.
import createDebug from 'debug'
import { defaultGateways, type Ipv4Interface, ipv4Interfaces, sameSubnet } from './address.js'
import {
  DEFAULT_DISCOVERY_SETTLE_MS,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  IGD_DEVICE_TYPES,
  NATPMP_PROBE_MS,
  NATPMP_RESULT,
  SSDP_MX,
} from './constants.js'
import { NatError } from './errors.js'
import { natpmpExternalAddress } from './natpmp-client.js'
import { ssdpSearch } from './ssdp.js'
import type { Gateway, GatewayProtocol } from './types.js'
import { UpnpClient } from './upnp-client.js'

const debug = createDebug('pyp2p:nat:discovery')

export interface DiscoverOptions {
  signal?: AbortSignal
  /** upper bound for the whole discovery, ms; default 2000 */
  timeout?: number
  /**
   * ms to wait for more gateways once every gateway found is fully probed; default 250. Set
   * `settle: Infinity` to always wait the whole `timeout`.
   */
  settle?: number
  /** bound for each description fetch / NAT-PMP request, ms; default 3000 (capped by `timeout`) */
  requestTimeout?: number
  /** interface names to search on; default every non-internal IPv4 interface */
  interfaces?: readonly string[]
  /** search by UPnP (SSDP); default true */
  upnp?: boolean
  /** probe NAT-PMP; default true */
  natpmp?: boolean
  /** NAT-PMP gateways to probe; default the host's default gateways plus the UPnP gateways found */
  natpmpGateways?: readonly string[]
  /** where M-SEARCH goes; default the SSDP multicast group (tests point it at a loopback responder) */
  ssdpTarget?: { address: string; port: number }
}

/** A gateway with the live UPnP client made while describing it. */
export interface DiscoveredGateway {
  info: Gateway
  upnp?: UpnpClient
}

function order(protocols: Set<GatewayProtocol>): GatewayProtocol[] {
  return (['upnp-igd2', 'upnp-igd1', 'natpmp'] as const).filter((p) => protocols.has(p))
}

/** Internal form of {@link discoverGateways} that keeps the UPnP clients for reuse. */
export async function discover(opts: DiscoverOptions = {}): Promise<DiscoveredGateway[]> {
  const timeout = opts.timeout ?? DEFAULT_DISCOVERY_TIMEOUT_MS
  const settle = opts.settle ?? DEFAULT_DISCOVERY_SETTLE_MS
  const requestTimeout = Math.min(opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS, timeout)
  const interfaces = ipv4Interfaces(opts.interfaces)
  if (opts.signal?.aborted) throw NatError.ABORTED('Gateway discovery', opts.signal.reason)

  const stop = new AbortController()
  // A ref'd timer (not AbortSignal.timeout, which is unref'd): a caller awaiting discovery with no
  // socket open (NAT-PMP only, after its probe) must not see the process exit under it.
  const deadlineTimer = setTimeout(() => stop.abort(), timeout)
  const signal = opts.signal ? AbortSignal.any([stop.signal, opts.signal]) : stop.signal
  const started = Date.now()
  const found = new Map<
    string,
    { info: Gateway; protocols: Set<GatewayProtocol>; upnp?: UpnpClient; pmpDone: boolean }
  >()
  const seenLocations = new Set<string>()
  const probed = new Set<string>()
  const probeFinished = new Set<string>()
  let pending = 0
  let settleTimer: NodeJS.Timeout | undefined
  const upnpWindowMs = opts.upnp === false ? 0 : SSDP_MX * 1000

  const localFor = (gateway: string): string =>
    interfaces.find((i) => sameSubnet(i.address, gateway, i.netmask))?.address ?? interfaces[0]?.address ?? ''

  const entry = (address: string, localAddress: string) => {
    let e = found.get(address)
    if (e === undefined) {
      e = {
        info: { address, localAddress, protocols: [] },
        protocols: new Set(),
        pmpDone: opts.natpmp === false || probeFinished.has(address),
      }
      found.set(address, e)
    }
    return e
  }

  // End early once something usable was found, everything started has finished, and each gateway
  // is known on both protocols (or the SSDP answer window has passed): then wait `settle` ms.
  const maybeSettle = () => {
    if (settleTimer !== undefined) clearTimeout(settleTimer)
    settleTimer = undefined
    if (pending > 0 || found.size === 0 || !Number.isFinite(settle)) return
    const usable = [...found.values()].filter((e) => e.protocols.size > 0)
    if (usable.length === 0) return
    const complete = usable.every((e) => (e.upnp !== undefined || opts.upnp === false) && e.pmpDone)
    const wait = complete ? settle : Math.max(settle, upnpWindowMs - (Date.now() - started) + settle)
    settleTimer = setTimeout(() => stop.abort(), wait)
  }

  const tasks: Promise<void>[] = []
  const track = (task: Promise<void>) => {
    pending++
    tasks.push(task)
    void task.finally(() => {
      pending--
      maybeSettle()
    })
  }

  const probeNatPmp = (gateway: string, localAddress: string) => {
    if (opts.natpmp === false || probed.has(gateway)) return
    probed.add(gateway)
    track(
      // A live NAT-PMP gateway answers in milliseconds; a silent one must not hold discovery past
      // the SSDP window, so the probe gets at most that long (tries at 0, 250 and 750 ms).
      natpmpExternalAddress(gateway, { signal, timeout: Math.min(requestTimeout, NATPMP_PROBE_MS) })
        .then(
          (ext) => {
            const e = entry(gateway, localAddress)
            e.info.natpmp = { externalAddress: ext.address, epoch: ext.epoch }
            e.protocols.add('natpmp')
          },
          (err: unknown) => {
            debug('no NAT-PMP on %s: %s', gateway, (err as Error).message)
            // Result 3 ("network failure": no external address) still proves the gateway speaks NAT-PMP.
            if (err instanceof NatError && err.natpmpCode === NATPMP_RESULT.NETWORK_FAILURE) {
              const e = entry(gateway, localAddress)
              e.info.natpmp = { externalAddress: null }
              e.protocols.add('natpmp')
            }
          },
        )
        .finally(() => {
          probeFinished.add(gateway)
          const e = found.get(gateway)
          if (e !== undefined) e.pmpDone = true
        }),
    )
  }

  const describe = (location: URL, from: string, localAddress: string, server: string) => {
    track(
      UpnpClient.connect(location.href, from, localAddress, { signal, timeout: requestTimeout }).then(
        (client) => {
          const e = entry(from, localAddress)
          if (e.upnp !== undefined) return
          e.upnp = client
          e.info.upnp = {
            location: location.href,
            serviceType: client.serviceType,
            version: client.version,
            ...(server ? { server } : {}),
          }
          e.protocols.add(client.version === 2 ? 'upnp-igd2' : 'upnp-igd1')
          if (opts.natpmpGateways === undefined) probeNatPmp(from, localAddress)
          else e.pmpDone = e.pmpDone || !opts.natpmpGateways.includes(from)
        },
        (err: unknown) => debug('description at %s: %s', location.href, (err as Error).message),
      ),
    )
  }

  try {
    const pmpTargets =
      opts.natpmp === false
        ? []
        : (opts.natpmpGateways ?? (await defaultGateways()).map((g) => g.gateway)).filter(
            (g) =>
              opts.natpmpGateways !== undefined ||
              interfaces.some((i: Ipv4Interface) => sameSubnet(i.address, g, i.netmask)),
          )
    for (const gw of pmpTargets) probeNatPmp(gw, localFor(gw))
    const search =
      opts.upnp === false || interfaces.length === 0
        ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
        : ssdpSearch({
            interfaces,
            searchTargets: IGD_DEVICE_TYPES,
            ...(opts.ssdpTarget ? { target: opts.ssdpTarget } : {}),
            signal,
            repeatAfterMs: Math.min(timeout / 2, SSDP_MX * 1000),
            onAnswer: ({ response, from, localAddress }) => {
              if (!IGD_DEVICE_TYPES.some((t) => t === response.st)) return
              if (response.location.hostname !== from) {
                debug('ignoring LOCATION %s sent from %s', response.location.href, from)
                return
              }
              if (seenLocations.has(response.location.href)) return
              seenLocations.add(response.location.href)
              describe(response.location, from, localAddress, response.server)
            },
          })
    // With nothing to search, end once the probes are done.
    if (opts.upnp === false || interfaces.length === 0) maybeSettle()
    await search
  } finally {
    if (settleTimer !== undefined) clearTimeout(settleTimer)
    clearTimeout(deadlineTimer)
    stop.abort()
    // Every probe and description fetch is bound by `signal`: wait for them to let go of their sockets.
    while (tasks.length > 0) await Promise.allSettled(tasks.splice(0))
  }
  if (opts.signal?.aborted) throw NatError.ABORTED('Gateway discovery', opts.signal.reason)
  const out: DiscoveredGateway[] = []
  for (const e of found.values()) {
    if (e.protocols.size === 0) continue
    e.info.protocols = order(e.protocols)
    out.push(e.upnp === undefined ? { info: e.info } : { info: e.info, upnp: e.upnp })
  }
  debug('found %d gateway(s) in %d ms', out.length, Date.now() - started)
  return out
}

/**
 * Finds UPnP IGD (v1, v2) and NAT-PMP gateways on every IPv4 interface within `timeout` ms and
 * says which protocols each speaks. Resolves with [] when none answered.
 */
export async function discoverGateways(opts: DiscoverOptions = {}): Promise<Gateway[]> {
  return (await discover(opts)).map((g) => g.info)
}
