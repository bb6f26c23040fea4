/**
 * The pyp2p rendezvous (bootstrap) server: nodes ask it for other nodes (`BOOTSTRAP`), register as
 * passive or simultaneous nodes, learn the source port it sees (`SOURCE TCP`), and coordinate TCP hole
 * punches (`CANDIDATE` / `CHALLENGE` / `ACCEPT` / `FIGHT`) with delays computed from measured round-trip
 * times, and dials back to check a node's port (`CHECK`). Nodes are keyed by node id, every table is
 * bounded, every wait has a timeout, and every expiry and rate limit reads an injectable `clock` (a
 * `manualClock()` of @pyp2p/limits in tests, with `server.sweep()`). The @pyp2p/dht-msg relay runs on
 * the same port by default (`relay: false` turns it off). Run it with
 * `npx @pyp2p/bootstrap-server --port 8000`, or embed it:
 *
 * @example
 * ```ts
 * import { BootstrapServer } from '@pyp2p/bootstrap-server'
 *
 * const server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
 * const { port } = await server.listen()
 * console.log(`rendezvous server on 127.0.0.1:${port}`, server.stats())
 * await server.close()
 * ```
 *
 * @packageDocumentation
 */
export * from './constants.js'
export { BootstrapServerError, type BootstrapServerErrorCode } from './errors.js'
export { type FightDelays, fightDelays } from './fight-delay.js'
export {
  createDebugLogger,
  createStreamLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type StreamLoggerOptions,
} from './logger.js'
export type { BootstrapServerOptions } from './options.js'
export { BootstrapServer, type BootstrapServerStats } from './server.js'
export type { RendezvousService, ServiceConnection } from './service.js'
export type { ClusterStats, ClusterStatus } from './store/cluster-store.js'
