// The two probes sent to a gateway's port 5351 during discovery: PCP ANNOUNCE (RFC 6887 section
// 14.1) and the NAT-PMP external address request (RFC 6886 section 3.2). Each says whether the
// gateway speaks the protocol and how fast it answered; neither throws.
import createDebug from 'debug'
import { NATPMP_RESULT } from './constants.js'
import { NatError } from './errors.js'
import { natpmpExternalAddress } from './natpmp-client.js'
import { pcpAnnounce } from './pcp-client.js'
import type { NatPmpGatewayInfo, PcpGatewayInfo } from './types.js'

const debug = createDebug('pyp2p:nat:discovery')

/** What a probe found: the info, or why not (a NatError code such as ERR_TIMEOUT). */
export type ProbeResult<T> = { ok: true; info: T } | { ok: false; code: string; ms: number }

const failed = (err: unknown, started: number) => ({
  ok: false as const,
  code: err instanceof NatError ? err.code : 'ERR_GATEWAY',
  ms: performance.now() - started,
})

export async function probePcp(
  gateway: string,
  opts: { signal: AbortSignal; timeout: number; port?: number },
): Promise<ProbeResult<PcpGatewayInfo>> {
  const started = performance.now()
  try {
    const { epoch } = await pcpAnnounce(gateway, opts)
    return { ok: true, info: { epoch, ms: performance.now() - started } }
  } catch (err) {
    debug('no PCP on %s: %s', gateway, (err as Error).message)
    return failed(err, started)
  }
}

export async function probeNatPmp(
  gateway: string,
  opts: { signal: AbortSignal; timeout: number },
): Promise<ProbeResult<NatPmpGatewayInfo>> {
  const started = performance.now()
  try {
    const ext = await natpmpExternalAddress(gateway, opts)
    return {
      ok: true,
      info: { externalAddress: ext.address, epoch: ext.epoch, ms: performance.now() - started },
    }
  } catch (err) {
    debug('no NAT-PMP on %s: %s', gateway, (err as Error).message)
    // Result 3 ("network failure": no external address) still proves the gateway speaks NAT-PMP.
    if (err instanceof NatError && err.natpmpCode === NATPMP_RESULT.NETWORK_FAILURE) {
      return { ok: true, info: { externalAddress: null, ms: performance.now() - started } }
    }
    return failed(err, started)
  }
}
