/**
 * @pyp2p/netlab — real NAT routers in Linux network namespaces, as a test harness (private package).
 *
 * A lab is an "internet" (a bridge inside its own namespace, 11.0.0.0/24, which exists nowhere
 * else), public hosts on it, NAT routers (nftables: cone, symmetric or sequential mapping; RST or
 * silent drop for unsolicited SYNs; optional loss, short conntrack timeouts and a real miniupnpd), and
 * hosts behind them. Needs root and iproute2, nftables, conntrack, miniupnpd-nftables, miniupnpc,
 * natpmpc; `labReadiness()` says whether they are there.
 *
 * @example
 * ```ts
 * import { createLab, labReadiness } from '@pyp2p/netlab'
 *
 * if ((await labReadiness()).ok) {
 *   await using lab = await createLab({
 *     publicHosts: { server: {} },
 *     routers: { r1: { nat: 'cone', upnp: 'igd2+natpmp' } },
 *     hosts: { alice: { router: 'r1' } },
 *   })
 *   const res = await lab.exec('alice', ['upnpc', '-u', lab.router('r1').upnpUrl ?? '', '-s'])
 *   console.log(res.stdout) // ... ExternalIPAddress = 11.0.0.100
 * }
 * ```
 * @packageDocumentation
 */
export { LAB_PCP_MIN_LIFETIME_S } from './constants.js'
export { NetlabError } from './errors.js'
export { CUT_TABLE, cutLink, rebootRouter, restoreLink } from './faults.js'
export { createLab } from './lab.js'
export {
  addLocalPrefixes,
  PrefixClients,
  type PrefixClientsOptions,
  randomAddressIn64,
} from './prefix-clients.js'
export { type LabReadiness, labReadiness } from './readiness.js'
export { SCENARIOS, type ScenarioName } from './scenarios.js'
export type * from './types.js'
