// Finding gateways: a PCP ANNOUNCE and a NAT-PMP external address request to each default gateway,
// and an SSDP M-SEARCH on every IPv4 interface (UPnP IGD v1/v2), all at once. The first protocol to
// answer wins: the others get a short grace, then discovery returns (RFC 6887 section 9 puts PCP
// before NAT-PMP; UPnP, whose devices hold answers back up to MX s, is searched again when needed).
import createDebug from 'debug'
import { anySignal } from './abort.js'
import { type Ipv4Interface, ipv4Interfaces, sameSubnet } from './address.js'
import {
  DEFAULT_DISCOVERY_GRACE_MS,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  IGD_DEVICE_TYPES,
  NATPMP_PROBE_MS,
  SSDP_MX,
} from './constants.js'
import { NatError } from './errors.js'
import { probeNatPmp, probePcp } from './port-probes.js'
import { defaultGateways } from './route-table.js'
import { ssdpSearch } from './ssdp.js'
import type { Gateway, GatewayProtocol } from './types.js'
import { UpnpClient } from './upnp-client.js'

const debug = createDebug('pyp2p:nat:discovery')

export interface DiscoverOptions {
  signal?: AbortSignal
  /** upper bound for the whole discovery, ms; default 2000 */
  timeout?: number
  /**
   * ms the other protocols get once one has answered, before discovery returns; default 25
   * (DEFAULT_DISCOVERY_GRACE_MS). `Infinity` waits for every search to end (at most `timeout`).
   */
  grace?: number
  /** old name of `grace` */
  settle?: number
  /** bound for each description fetch / PCP / NAT-PMP request, ms; default 3000 (capped by `timeout`) */
  requestTimeout?: number
  /** interface names to search on; default every non-internal IPv4 interface */
  interfaces?: readonly string[]
  /** search by UPnP (SSDP); default true */
  upnp?: boolean
  /** probe NAT-PMP; default true */
  natpmp?: boolean
  /** probe PCP; default the value of `natpmp` (both use the gateway's port 5351) */
  pcp?: boolean
  /** gateways to probe with PCP and NAT-PMP; default the host's default gateways plus the UPnP gateways found */
  natpmpGateways?: readonly string[]
  /** where M-SEARCH goes; default the SSDP multicast group (tests point it at a loopback responder) */
  ssdpTarget?: { address: string; port: number }
}

/** A gateway with the live UPnP client made while describing it. */
export interface DiscoveredGateway {
  info: Gateway
  upnp?: UpnpClient
}

export interface Discovery {
  gateways: DiscoveredGateway[]
  /** true when the SSDP search was cut short by the grace (a UPnP gateway may have been missed) */
  upnpCutShort: boolean
}

const ORDER: readonly GatewayProtocol[] = ['pcp', 'natpmp', 'upnp-igd2', 'upnp-igd1']

/** Internal form of {@link discoverGateways} that keeps the UPnP clients for reuse. */
export async function discover(opts: DiscoverOptions = {}): Promise<Discovery> {
  const timeout = opts.timeout ?? DEFAULT_DISCOVERY_TIMEOUT_MS
  const grace = opts.grace ?? opts.settle ?? DEFAULT_DISCOVERY_GRACE_MS
  const requestTimeout = Math.min(opts.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT_MS, timeout)
  const useUpnp = opts.upnp !== false
  const useNatPmp = opts.natpmp !== false
  const usePcp = opts.pcp ?? useNatPmp
  const interfaces = ipv4Interfaces(opts.interfaces)
  if (opts.signal?.aborted) throw NatError.ABORTED('Gateway discovery', opts.signal.reason)

  const stop = new AbortController()
  // A ref'd timer (not AbortSignal.timeout, which is unref'd): a caller awaiting discovery with no
  // socket open must not see the process exit under it.
  const deadlineTimer = setTimeout(() => stop.abort(), timeout)
  const signal = anySignal(stop.signal, opts.signal)
  const started = performance.now()
  const found = new Map<string, { info: Gateway; protocols: Set<GatewayProtocol>; upnp?: UpnpClient }>()
  const seenLocations = new Set<string>()
  const probed = new Set<string>()
  const tasks: Promise<void>[] = []
  let pending = 0
  let searching = false
  let graceTimer: NodeJS.Timeout | undefined

  const localFor = (gateway: string): string =>
    interfaces.find((i) => sameSubnet(i.address, gateway, i.netmask))?.address ?? interfaces[0]?.address ?? ''

  const entry = (address: string, localAddress: string) => {
    let e = found.get(address)
    if (e === undefined) {
      e = { info: { address, localAddress, protocols: [] }, protocols: new Set() }
      found.set(address, e)
    }
    return e
  }

  // Ends discovery once nothing is left running, or `grace` ms after the first answer.
  const check = () => {
    if (stop.signal.aborted) return
    if (pending === 0 && !searching) return stop.abort()
    const answered = [...found.values()].some((e) => e.protocols.size > 0)
    if (answered && graceTimer === undefined && Number.isFinite(grace)) {
      graceTimer = setTimeout(() => stop.abort(), grace)
    }
  }

  const track = (task: Promise<void>) => {
    pending++
    tasks.push(task)
    void task.finally(() => {
      pending--
      check()
    })
  }

  const probe5351 = (gateway: string, localAddress: string) => {
    if (probed.has(gateway)) return
    probed.add(gateway)
    // A live gateway answers in milliseconds; a silent one must not hold discovery past the SSDP window.
    const bound = { signal, timeout: Math.min(requestTimeout, NATPMP_PROBE_MS) }
    if (usePcp) {
      track(
        probePcp(gateway, bound).then((r) => {
          if (!r.ok) return
          const e = entry(gateway, localAddress)
          e.info.pcp = r.info
          e.protocols.add('pcp')
        }),
      )
    }
    if (useNatPmp) {
      track(
        probeNatPmp(gateway, bound).then((r) => {
          if (!r.ok) return
          const e = entry(gateway, localAddress)
          e.info.natpmp = r.info
          e.protocols.add('natpmp')
        }),
      )
    }
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
            ms: performance.now() - started,
          }
          e.protocols.add(client.version === 2 ? 'upnp-igd2' : 'upnp-igd1')
          if (opts.natpmpGateways === undefined) probe5351(from, localAddress)
        },
        (err: unknown) => debug('description at %s: %s', location.href, (err as Error).message),
      ),
    )
  }

  let upnpCutShort = false
  try {
    const targets =
      !useNatPmp && !usePcp
        ? []
        : (opts.natpmpGateways ?? (await defaultGateways()).map((g) => g.gateway)).filter(
            (g) =>
              opts.natpmpGateways !== undefined ||
              interfaces.some((i: Ipv4Interface) => sameSubnet(i.address, g, i.netmask)),
          )
    for (const gw of targets) probe5351(gw, localFor(gw))
    searching = useUpnp && interfaces.length > 0
    check()
    if (searching) {
      await ssdpSearch({
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
      // Ended by the grace (not the deadline, not the caller): UPnP may not have had its say.
      upnpCutShort = graceTimer !== undefined && !opts.signal?.aborted
    } else if (!stop.signal.aborted) {
      await new Promise<void>((resolve) =>
        stop.signal.addEventListener('abort', () => resolve(), { once: true }),
      )
    }
  } finally {
    if (graceTimer !== undefined) clearTimeout(graceTimer)
    clearTimeout(deadlineTimer)
    stop.abort()
    // Every probe and description fetch is bound by `signal`: wait for them to let go of their sockets.
    while (tasks.length > 0) await Promise.allSettled(tasks.splice(0))
  }
  if (opts.signal?.aborted) throw NatError.ABORTED('Gateway discovery', opts.signal.reason)
  const gateways: DiscoveredGateway[] = []
  for (const e of found.values()) {
    if (e.protocols.size === 0) continue
    e.info.protocols = ORDER.filter((p) => e.protocols.has(p))
    gateways.push(e.upnp === undefined ? { info: e.info } : { info: e.info, upnp: e.upnp })
  }
  debug('found %d gateway(s) in %d ms', gateways.length, performance.now() - started)
  return { gateways, upnpCutShort }
}

/**
 * Finds PCP, NAT-PMP and UPnP IGD (v1, v2) gateways within `timeout` ms and says which protocols
 * each speaks. Returns `grace` ms after the first answer; resolves with [] when none answered.
 */
export async function discoverGateways(opts: DiscoverOptions = {}): Promise<Gateway[]> {
  return (await discover(opts)).gateways.map((g) => g.info)
}
