/**
 * @packageDocumentation
 * The pyp2p `Net`: a node that finds other nodes through a bootstrap (rendezvous) server, connects to
 * them, accepts their connections, and exchanges lines of text — the original PyP2P facade in
 * TypeScript. `start()` works out what kind of node this is (passive: reachable, directly or through a
 * UPnP / NAT-PMP port mapping; simultaneous: behind a predictable NAT; active: neither) and says why;
 * `bootstrap()` connects to listed nodes; `advertise()` lists us; `net.unl.connect()` reaches one node
 * by its UNL (LAN, direct, reverse connect, hole punching).
 *
 * @example
 * ```ts
 * import { BootstrapServer } from '@pyp2p/bootstrap-server'
 * import { Net } from '@pyp2p/net'
 *
 * const server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
 * const { port } = await server.listen()
 * const options = { passiveBind: '127.0.0.1', passivePort: 0, servers: [`127.0.0.1:${port}`], enableForwarding: false }
 * const alice = new Net(options)
 * const bob = new Net(options)
 * await alice.start()
 * await alice.advertise()
 * await bob.start()
 * await bob.bootstrap()
 * for (const con of bob) con.sendLine('hello from Bob')
 * for await (const con of alice) {
 *   console.log(await con.readLine()) // hello from Bob
 *   break
 * }
 * await Promise.all([alice.stop(), bob.stop(), server.close()])
 * ```
 */

/** The node's key type, for the `identity` option (from @pyp2p/identity). */
export { NodeIdentity } from '@pyp2p/identity'
export type { NetCircuitRelayOptions } from './circuit-relay-options.js'
export type { ConnectionMethod, Direction, PeerInfo } from './connection-set.js'
export * from './constants.js'
export { DialBackListener } from './dial-back-listener.js'
export { isNetError, NetError, type NetErrorCode } from './errors.js'
export type { InboundLimits } from './inbound-limits.js'
export { Net, type NetEvents } from './net.js'
export type { ConnectEvents, NetUnl, UnlConnectOptions } from './net-unl.js'
export type { ForwardedPort, NodeTypeReport } from './node-type.js'
export { type NetOptions, type NetType, parseServerAddress, type ServerAddress } from './options.js'
export type { NetPunchLimits } from './punch-limits.js'
export {
  ObservedAddressProbe,
  type Reachability,
  type ReachabilityProbe,
  type ReachabilityQuery,
  type ReachabilityVerdict,
} from './reachability.js'
export {
  type DialBackServer,
  ServerDialBackProbe,
  type ServerDialBackProbeOptions,
} from './server-dial-back-probe.js'
export { type StopOnSignalsOptions, stopOnSignals } from './signals.js'
export type { RelayMovedInfo, StartReport } from './start.js'
