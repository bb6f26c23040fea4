/**
 * @packageDocumentation
 * A message relay that lets a node reach another node it cannot connect to — the original pyp2p's
 * `dht_msg`, used to ask a node to connect back (reverse connect). A node connects to the relay,
 * proves it owns its node id (an Ed25519 key whose hash is the id), gets the messages addressed to it
 * pushed on that connection, and can send messages to any node id. The server is in
 * `@pyp2p/dht-msg/server`.
 *
 * @example
 * ```ts
 * import { once } from 'node:events'
 * import { RelayClient } from '@pyp2p/dht-msg'
 * import { RelayServer } from '@pyp2p/dht-msg/server'
 *
 * const server = new RelayServer()
 * const { port } = await server.listen({ host: '127.0.0.1', port: 0 })
 * const alice = await RelayClient.connect({ host: '127.0.0.1', port })
 * const bob = await RelayClient.connect({ host: '127.0.0.1', port })
 * const received = once(bob, 'message')
 * await alice.send(bob.nodeId, 'hello') // resolves once the relay has queued it
 * const [m] = await received
 * console.log(`${m.from} says ${m.message}`)
 * for (const c of [alice, bob]) await c.close()
 * await server.close()
 * ```
 */

export { isNodeId, NodeIdentity, nodeIdFromPublicKey } from '@pyp2p/identity'
export * from './constants.js'
export { RelayError, type RelayErrorCode } from './errors.js'
export {
  type ClientLine,
  formatHello,
  isRelayHello,
  parseClientLine,
  parseServerLine,
  type ServerLine,
} from './protocol.js'
export { RelayClient } from './relay-client.js'
export type { RelayClientEvents, RelayClientOptions } from './relay-client-options.js'
export type { MessageTransport, TransportMessage } from './transport.js'
