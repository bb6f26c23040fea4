/**
 * @pyp2p/nat: open ports on the home router with PCP, NAT-PMP or UPnP IGD (v1 and v2), keep the
 * leases renewed, put them back after a router restart, and remove every mapping again on close.
 *
 * ```ts
 * import { NatClient, removeMappingsOnExit } from '@pyp2p/nat'
 *
 * const nat = new NatClient({ timeout: 3000 })
 * removeMappingsOnExit(nat) // opt-in: unmap on SIGINT/SIGTERM, then exit as usual
 * nat.on('warning', (w) => console.warn(w.message)) // e.g. DOUBLE_NAT
 * const m = await nat.map({ internalPort: 8080, protocol: 'TCP', ttl: 3600, description: 'my app' })
 * console.log(`reachable at ${m.externalAddress}:${m.externalPort} via ${m.method}`)
 * // ... serve ...
 * await nat.close() // removes the mapping
 * ```
 *
 * @packageDocumentation
 */

export { isPrivateIPv4, privateRangeOf } from './address.js'
export type { Clock } from './clock.js'
export * as constants from './constants.js'
export { type DiscoverOptions, discoverGateways } from './discovery.js'
export { NatError, type NatErrorCode } from './errors.js'
export {
  DEFAULT_METHODS,
  type Ipv6Gateway,
  type MapOptions,
  NatClient,
  type NatClientEvents,
  type NatClientOptions,
} from './nat-client.js'
export { type ProbeResult, probeNatPmp, probePcp } from './port-probes.js'
export { type DefaultRoute, defaultRoutes, type RouteSources } from './route-table.js'
export { type ExitCleanupOptions, removeMappingsOnExit } from './signals.js'
export type {
  ExternalAddress,
  Gateway,
  GatewayProtocol,
  Mapping,
  MappingEntry,
  MappingMethod,
  NatPmpGatewayInfo,
  NatWarning,
  PcpGatewayInfo,
  Protocol,
  RequestOptions,
  UpnpGatewayInfo,
} from './types.js'
