/**
 * @packageDocumentation
 * A circuit relay for pyp2p nodes that cannot reach each other (two symmetric NATs, firewalls that
 * drop every unsolicited SYN), modelled on libp2p circuit relay v2. A node that may need it holds a
 * reservation (`CircuitReservation`: one control connection, authenticated by its identity's
 * signature over the relay's nonce); a dialler asks the relay for a circuit to that node
 * (`dialCircuit`); the relay tells the target, the target accepts on a new connection, and the relay
 * splices the two sockets with back-pressure and limits (bytes and lifetime per circuit, reservations
 * per relay and IP, circuits per relay, target and IP). The circuit is a raw byte stream: the ends run
 * their own handshake over it (@pyp2p/unl's upgrade step), so the relay sees only ciphertext.
 * `CircuitRelay` is the server (embedded in @pyp2p/bootstrap-server, or on its own port with
 * `RelayListener`, as a passive @pyp2p/net node with `circuitRelay: { serve: true }` runs it).
 *
 * @example
 * ```ts
 * import { NodeIdentity } from '@pyp2p/identity'
 * import { CircuitRelay, CircuitReservation, dialCircuit, RelayListener } from '@pyp2p/relay'
 *
 * const relay = new CircuitRelay()
 * const listener = new RelayListener(relay)
 * const { port } = await listener.listen({ host: '127.0.0.1', port: 0 })
 * const bob = NodeIdentity.generate()
 * const reservation = await CircuitReservation.open({ host: '127.0.0.1', port, identity: bob })
 * reservation.on('incoming', ({ socket }) => socket.pipe(socket)) // an echo, raw bytes
 * const { socket } = await dialCircuit({ host: '127.0.0.1', port, target: bob.nodeId, nodeId: '0'.repeat(40) })
 * socket.resume()
 * socket.once('data', (d) => console.log(String(d))) // hello
 * socket.write('hello')
 * ```
 */
export { circuitEndError } from './circuit-end.js'
export { CircuitRelay } from './circuit-relay.js'
export * from './constants.js'
export { CircuitError, type CircuitErrorCode, type CircuitLimitKind } from './errors.js'
export { type ListenOptions, RelayListener } from './listener.js'
export {
  type CircuitLimits,
  type ClientLine,
  type EndReason,
  isCircuitLine,
  parseClientLine,
  parseServerLine,
  type ServerLine,
} from './protocol.js'
export {
  acceptCircuit,
  type DialCircuitOptions,
  dialCircuit,
  type RelayAddress,
  type RelayedSocket,
} from './relay-dial.js'
export { type CircuitRelayOptions, type ResolvedRelayOptions, resolveRelayOptions } from './relay-options.js'
export type { CircuitRelayEvents, RelayStats, TakeOver } from './relay-types.js'
export {
  CircuitReservation,
  type IncomingCircuit,
  type ReservationEvents,
  type ReservationOptions,
  type ReservationState,
} from './reservation.js'
export type { ControlConnection } from './reservations.js'
