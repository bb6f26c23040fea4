// miniupnpd (Debian's miniupnpd-nftables 2.3.1) as the UPnP IGD / NAT-PMP server of a lab router.
import { readFile } from 'node:fs/promises'
import {
  IF_BRIDGE,
  IF_UPLINK_ROUTER,
  LAB_PCP_MIN_LIFETIME_S,
  NATPMP_PORT,
  UPNP_HTTP_PORT,
  UPNP_UUID_HEAD,
} from './constants.js'
import { NFT } from './ruleset.js'
import type { UpnpMapping, UpnpMode } from './types.js'

export interface UpnpFeatures {
  upnp: boolean
  natpmp: boolean
  igd1: boolean
}

export function upnpFeatures(mode: UpnpMode): UpnpFeatures {
  return {
    upnp: mode === 'igd2+natpmp' || mode === 'igd2' || mode === 'igd1',
    natpmp: mode === 'igd2+natpmp' || mode === 'natpmp',
    igd1: mode === 'igd1',
  }
}

/** The config file for one router (docs/lab.md has the measured recipe). */
export function miniupnpdConfig(opts: {
  mode: UpnpMode
  index: number
  lanSubnet: string
  leaseFile: string
  /** the router's IPv6 LAN address (`ipv6` routers): miniupnpd then serves PCP and IGD v2
   * WANIPv6FirewallControl over IPv6 and opens IPv6 pinholes in its forward chain. `ipv6_listening_ip`
   * is left out on purpose: it binds the HTTP socket to that address only, and IGD over IPv4 is then
   * refused (measured); without it the socket is dual-stack and IPv6 control points get the LAN's
   * address in LOCATION. */
  lanIp6?: string
}): string {
  const f = upnpFeatures(opts.mode)
  const uuid = `${UPNP_UUID_HEAD}${String(opts.index).padStart(12, '0')}`
  return `${[
    `ext_ifname=${IF_UPLINK_ROUTER}`,
    `listening_ip=${IF_BRIDGE}`,
    ...(opts.lanIp6 !== undefined ? [`ext_ifname6=${IF_UPLINK_ROUTER}`] : []),
    `http_port=${UPNP_HTTP_PORT}`,
    `enable_upnp=${f.upnp ? 'yes' : 'no'}`,
    `enable_natpmp=${f.natpmp ? 'yes' : 'no'}`,
    `force_igd_desc_v1=${f.igd1 ? 'yes' : 'no'}`,
    // only map ports to the client that asks (UPnP IGD's SecurityModeEnabled)
    'secure_mode=yes',
    `min_lifetime=${LAB_PCP_MIN_LIFETIME_S}`,
    // the NAT-PMP epoch (RFC 6886 section 3.6) and the UPnP uptime count from the daemon's start, as on
    // a router whose daemon starts at boot; with `yes` they are the machine's uptime, which a
    // restartUpnp() would not reset (measured: epoch 4881 before and after a restart)
    'system_uptime=no',
    `uuid=${uuid}`,
    `lease_file=${opts.leaseFile}`,
    `upnp_table_name=${NFT.filterTable}`,
    `upnp_nat_table_name=${NFT.natTable}`,
    `upnp_forward_chain=${NFT.upnpForwardChain}`,
    `upnp_nat_chain=${NFT.upnpNatChain}`,
    `upnp_nat_postrouting_chain=${NFT.upnpPostroutingChain}`,
    `allow 1-65535 ${opts.lanSubnet} 1-65535`,
    'deny 0-65535 0.0.0.0/0 0-65535',
  ].join('\n')}\n`
}

/** stderr lines miniupnpd prints once the sockets of each enabled service are open. */
export function readyPatterns(mode: UpnpMode): RegExp[] {
  const f = upnpFeatures(mode)
  const out: RegExp[] = []
  if (f.upnp) out.push(/HTTP listening on port \d+/)
  if (f.natpmp) out.push(new RegExp(`Listening for NAT-PMP/PCP traffic on port ${NATPMP_PORT}`))
  return out
}

/** Lines that mean miniupnpd will not work even though it keeps running. A router behind another
 * router has a private WAN address, and miniupnpd 2.3.1 then runs but refuses every mapping: that is
 * how such a router behaves in the field, so it is allowed there (`privateWan`). */
export function fatalPattern(privateWan: boolean): RegExp {
  const fatal = [/already running/, /EXITING/]
  if (!privateWan) fatal.push(/Port forwarding is impossible/)
  return new RegExp(fatal.map((r) => r.source).join('|'))
}

/**
 * Parses miniupnpd's lease file. Each line is `PROTO:EXT_PORT:INT_IP:INT_PORT:EXPIRY:DESCRIPTION`
 * (miniupnpd 2.x `lease_file_add`); the description is the rest of the line and may hold colons.
 */
export function parseLeases(text: string): UpnpMapping[] {
  const out: UpnpMapping[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const parts = line.split(':')
    const [proto, ext, ip, int] = parts
    if (proto !== 'TCP' && proto !== 'UDP') continue
    const externalPort = Number(ext)
    const internalPort = Number(int)
    if (!Number.isInteger(externalPort) || !Number.isInteger(internalPort) || ip === undefined) continue
    out.push({
      protocol: proto,
      externalPort,
      internalIp: ip,
      internalPort,
      description: parts.slice(5).join(':'),
    })
  }
  return out
}

export async function readLeases(file: string): Promise<UpnpMapping[]> {
  try {
    return parseLeases(await readFile(file, 'utf8'))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}
