/**
 * @packageDocumentation
 * The relay server of @pyp2p/dht-msg. Standalone: `await new RelayServer().listen({ port })`.
 * On bootstrap-server's connections: `new BootstrapServer({ services: [relay.service()] })` (the relay
 * gets the lines starting with RELAY, AUTH, SEND, ACK). On any other listener: read the connection's
 * first line; if `isRelayHello(line)` (it starts with `RELAY `), call
 * `relay.handle(new LineSocket(socket, relay.lineLimits), { firstLine: line })`.
 * The client skips a greeting the other server sends first (`HELLO PYP2P/1 ...`).
 */
export { RelayError, type RelayErrorCode } from './errors.js'
export { verifyChallenge } from './identity.js'
export {
  MemoryMessageStore,
  type MessageStore,
  type StoredMessage,
  type StoreLimits,
} from './message-store.js'
export { isRelayHello } from './protocol.js'
export type { RateLimit } from './rate-limiter.js'
export type { SharedConnection } from './relay-link.js'
export {
  type HandleOptions,
  RelayServer,
  type RelayServerEvents,
  type RelayServerOptions,
  type RelayService,
  SERVICE_COMMANDS,
} from './relay-server.js'
