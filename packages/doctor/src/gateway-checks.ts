// Which port mapping protocols the default gateway speaks, each asked on its own and timed: PCP
// (ANNOUNCE), NAT-PMP (external address) and UPnP IGD (SSDP search and description).
import { discoverGateways, type Gateway, probeNatPmp, probePcp } from '@pyp2p/nat'
import { bounded } from './bounded.js'
import { PROBE_TIMEOUT_MS, UPNP_SEARCH_MS } from './constants.js'
import type { CheckResult, DoctorReport, ProtocolResult } from './report.js'

export interface GatewayFindings {
  gateway: DoctorReport['gateway']
  /** NAT-PMP's external address (null: the router has none), undefined when NAT-PMP did not answer */
  natpmpExternal?: string | null
  checks: CheckResult[]
}

const noGateway = { answered: false, ms: 0, error: 'ERR_NO_GATEWAY' }

export async function gatewayChecks(gateway: string | null, signal: AbortSignal): Promise<GatewayFindings> {
  if (gateway === null) {
    return {
      gateway: { address: null, pcp: noGateway, natpmp: noGateway, upnp: noGateway },
      checks: [],
    }
  }
  const probeOpts = (s: AbortSignal) => ({ signal: s, timeout: PROBE_TIMEOUT_MS })
  // A little longer than the probes' own bound, so their own ERR_TIMEOUT is what gets reported.
  const [pcp, natpmp, upnp] = await Promise.all([
    bounded('pcp', PROBE_TIMEOUT_MS + 200, (s) => probePcp(gateway, probeOpts(s)), signal),
    bounded('natpmp', PROBE_TIMEOUT_MS + 200, (s) => probeNatPmp(gateway, probeOpts(s)), signal),
    bounded(
      'upnp',
      UPNP_SEARCH_MS + 500,
      (s) =>
        discoverGateways({
          signal: s,
          timeout: UPNP_SEARCH_MS,
          natpmp: false,
          pcp: false,
          // wait the whole search: this check is about whether UPnP answers at all
          grace: Number.POSITIVE_INFINITY,
        }),
      signal,
    ),
  ])
  const asResult = (b: typeof pcp | typeof natpmp): ProtocolResult => {
    const r = b.value
    if (r?.ok) return { answered: true, ms: Math.round(r.info.ms ?? b.result.ms) }
    return {
      answered: false,
      ms: Math.round(r?.ms ?? b.result.ms),
      error: r?.ok === false ? r.code : (b.result.error?.code ?? 'ERR_FAILED'),
    }
  }
  const igd: Gateway | undefined = upnp.value?.find((g) => g.address === gateway) ?? upnp.value?.[0]
  const upnpResult: DoctorReport['gateway']['upnp'] = igd?.upnp
    ? {
        answered: true,
        ms: Math.round(igd.upnp.ms ?? upnp.result.ms),
        version: igd.upnp.version,
        location: igd.upnp.location,
        ...(igd.upnp.server ? { server: igd.upnp.server } : {}),
      }
    : { answered: false, ms: upnp.result.ms, error: upnp.result.error?.code ?? 'ERR_TIMEOUT' }
  const pmp = natpmp.value
  // The probes never throw: a probe that ended without an answer says why in its result.
  const statusOf = (r: ProtocolResult, c: CheckResult): CheckResult => {
    if (r.answered || c.status !== 'ok') return c
    const code = r.error ?? 'ERR_FAILED'
    return {
      ...c,
      status: code === 'ERR_TIMEOUT' ? 'timeout' : 'failed',
      error: { code, message: `no answer (${code})` },
    }
  }
  const pcpResult = asResult(pcp)
  const pmpResult = asResult(natpmp)
  return {
    gateway: { address: gateway, pcp: pcpResult, natpmp: pmpResult, upnp: upnpResult },
    ...(pmp?.ok ? { natpmpExternal: pmp.info.externalAddress } : {}),
    checks: [
      statusOf(pcpResult, pcp.result),
      statusOf(pmpResult, natpmp.result),
      upnpResult.answered
        ? upnp.result
        : {
            ...upnp.result,
            status: 'timeout',
            error: { code: 'ERR_TIMEOUT', message: `no UPnP IGD answered within ${UPNP_SEARCH_MS} ms` },
          },
    ],
  }
}
