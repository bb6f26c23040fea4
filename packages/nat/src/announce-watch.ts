// What a NatClient does with a PCP server's unsolicited ANNOUNCE: for each gateway holding our PCP
// mappings whose new epoch shows a restart, put those mappings back after a random 0..maxDelay ms
// (RFC 6887 section 14.1.3) instead of at their next renewal.
import createDebug from 'debug'
import { PCP_ANNOUNCE_MAX_DELAY_MS } from './constants.js'
import type { MappingKeeper } from './mapping-keeper.js'
import { PcpAnnounceListener } from './pcp-announce-listener.js'
import type { PortMapper } from './port-mapper.js'
import { interfaceOf } from './ssdp6.js'

const debug = createDebug('pyp2p:nat:pcp')

export interface AnnounceWatchOptions {
  /** port to listen on; default 5350 (PCP_CLIENT_PORT) */
  port?: number
  /** longest random wait before re-mapping, ms; default 5000 (PCP_ANNOUNCE_MAX_DELAY_MS) */
  maxDelayMs?: number
  /** the server port ANNOUNCEs come from; default 5351 (tests run a server elsewhere) */
  serverPort?: number
}

const zoneless = (address: string) => address.replace(/%.*$/, '')

/** What the `pcp:announce` event carries. */
export interface PcpAnnounce {
  /** the gateway (as our mappings name it) */
  gateway: string
  epoch: number
  /** the epoch shows a restart: its PCP mappings are being put back */
  restarted: boolean
}

export function watchAnnounces(
  keeper: MappingKeeper,
  mapper: PortMapper,
  opts: AnnounceWatchOptions,
  emit: (announce: PcpAnnounce) => void,
): PcpAnnounceListener {
  // An IPv6 server multicasts from its link-local address (miniupnpd 2.3.1, lab), while our mappings
  // name its global one: a link-local ANNOUNCE counts for the PCP gateways of our IPv6 mappings on the
  // interface it came in on. (A LAN host forging one can only make us renew early.)
  const pcpGateways = (from: string, zone?: string) =>
    new Set(
      keeper
        .mappings()
        .filter(
          (m) =>
            m.method === 'pcp' &&
            (zoneless(m.gateway) === from ||
              (from.startsWith('fe80:') &&
                zone !== undefined &&
                m.family === 6 &&
                interfaceOf(m.internalAddress) === zone)),
        )
        .map((m) => m.gateway),
    )
  const maxDelay = opts.maxDelayMs ?? PCP_ANNOUNCE_MAX_DELAY_MS
  return new PcpAnnounceListener({
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.serverPort !== undefined ? { serverPort: opts.serverPort } : {}),
    accepts: (from, zone) => pcpGateways(from, zone).size > 0,
    onAnnounce(from, epoch, zone) {
      for (const gateway of pcpGateways(from, zone)) {
        const restarted = mapper.noteEpoch('pcp', gateway, epoch)
        emit({ gateway, epoch, restarted })
        if (!restarted) continue
        const delay = Math.floor(Math.random() * maxDelay)
        debug('%s restarted (ANNOUNCE epoch %d): re-mapping in %d ms', gateway, epoch, delay)
        keeper.restoreAll(gateway, 'pcp', delay)
      }
    },
  })
}
