/**
 * @packageDocumentation
 * The Universal Node Locator (pyp2p's UNL): a compact, URL-safe string saying how to reach a node (node
 * id, node type, NAT type, port forwarding, listening port, WAN and LAN addresses, IPv4 or IPv6), and
 * `UnlConnector.connect()`, which gets a TCP connection to that node by the best method: same LAN,
 * direct, reverse connect through a message relay (@pyp2p/dht-msg), or hole punching (a `Puncher`:
 * `RendezvousPuncher` drives @pyp2p/punch through a rendezvous server).
 *
 * @example
 * ```ts
 * import { once } from 'node:events'
 * import { createServer } from 'node:net'
 * import { NodeIdentity } from '@pyp2p/identity'
 * import { UNL, UnlConnector } from '@pyp2p/unl'
 *
 * const [aliceKey, bobKey] = [NodeIdentity.generate(), NodeIdentity.generate()]
 * const node = { natType: 'unknown', forwarding: 'none', wanAddress: '127.0.0.1', lanAddress: '127.0.0.1' } as const
 * const server = createServer().listen(0, '127.0.0.1')
 * await once(server, 'listening')
 * const { port } = server.address() as { port: number }
 * const alice = new UnlConnector({
 *   identity: aliceKey, // every connection encrypted, the peer's node id proved
 *   unl: new UNL({ ...node, nodeId: aliceKey.nodeId, nodeType: 'passive', port }),
 * })
 * alice.acceptOn(server)
 * alice.on('connection', ({ connection }) => connection.on('line', (l) => connection.sendLine(`echo ${l}`)))
 * const bob = new UnlConnector({
 *   identity: bobKey,
 *   unl: new UNL({ ...node, nodeId: bobKey.nodeId, nodeType: 'active', port: 0 }),
 * })
 * const { connection, method, durationMs } = await bob.connectWithReport(alice.unl.text)
 * connection.sendLine('hi')
 * console.log(await connection.readLine(), `(${method}, ${durationMs.toFixed(1)} ms)`) // echo hi (lan, 2.3 ms)
 * connection.close()
 * server.close()
 * ```
 */
export { CircuitRelayer, type CircuitRelayerOptions } from './circuit-relayer.js'
export {
  type AdmissionRefusal,
  type AdmissionRefusalCode,
  type ConnectHello,
  formatAdmission,
  formatConnectHello,
  formatReverseRequest,
  parseAdmission,
  parseConnectHello,
  parseReverseRequest,
} from './connect-hello.js'
export { type Capabilities, type ConnectPlan, type PlannedMethod, planConnect } from './connect-plan.js'
export { UnlConnector } from './connector.js'
export type {
  ConnectOptions,
  ConnectorAdmission,
  ConnectResult,
  DialNodeOptions,
  IncomingConnection,
  ListedNode,
  RelayUpgradeEvent,
  UnlConnectorEvents,
  UnlConnectorOptions,
} from './connector-options.js'
export * from './constants.js'
export {
  type AttemptReport,
  type ConnectMethod,
  describeAttempts,
  UnlError,
  type UnlErrorCode,
} from './errors.js'
export { ipv6Of, withIpv6 } from './ipv6-extension.js'
export {
  type PunchAdmission,
  PunchGuard,
  type PunchLimit,
  type PunchLimits,
  type PunchLimitValues,
  resolvePunchLimits,
} from './punch-guard.js'
export type { PunchedConnection, Puncher, PunchRequest } from './puncher.js'
export { rawLineOptions } from './raw-socket.js'
export { type RelayAddress, relayOf, withRelay } from './relay-extension.js'
export type { IncomingRelayed, RelayedConnection, Relayer, RelayRequest } from './relayer.js'
export {
  RendezvousPuncher,
  type RendezvousPuncherEvents,
  type RendezvousPuncherOptions,
  type RendezvousPunchTuning,
  type SessionPuncherOptions,
} from './rendezvous-puncher.js'
export { ReverseGuard, type ReverseLimits, type ReverseTarget } from './reverse-guard.js'
export { formatReverseRefusal, parseReverseRefusal } from './reverse-request.js'
export * from './types.js'
export { compareUnl, isMaster, isSameNode, parseUnl, UNL } from './unl.js'
export { encodeUnl } from './unl-codec.js'
export {
  type AdmissionRequest,
  type InboundUpgrade,
  type OutboundUpgrade,
  type UpgradedConnection,
  type UpgradedInbound,
  type UpgradeOptions,
  upgradeInbound,
  upgradeOutbound,
} from './upgrade.js'
