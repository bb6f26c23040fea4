/**
 * @packageDocumentation
 * The relay server of @pyp2p/dht-msg. Standalone: `await new RelayServer().listen({ port })`.
 * On bootstrap-server's connections: `new BootstrapServer({ services: [relay.service()] })` (the relay
 * gets the lines starting with RELAY, AUTH, SEND, ACK). On any other listener: read the connection's
 * first line; if `isRelayHello(line)` (it starts with `RELAY `), call
 * `relay.handle(new LineSocket(socket, relay.lineLimits), { firstLine: line })`.
 * The client skips a greeting the other server sends first (`HELLO PYP2P/1 ...`).
 */

export { verifyChallenge } from '@pyp2p/identity'
/** Re-exported from @pyp2p/limits (the project's one rate limiter) so existing options keep compiling. */
export type { Clock, RateLimit } from '@pyp2p/limits'
export { RelayError, type RelayErrorCode } from './errors.js'
export {
  MemoryMessageStore,
  type MessageStore,
  type StoredMessage,
  type StoreLimits,
} from './message-store.js'
export { isRelayHello } from './protocol.js'
export type { SharedConnection } from './relay-link.js'
export { RelayServer } from './relay-server.js'
export type {
  HandleOptions,
  RelayServerEvents,
  RelayServerOptions,
} from './relay-server-options.js'
export { type RelayService, SERVICE_COMMANDS } from './relay-service.js'
export type { RelayRemote } from './server/relay-remote.js'
