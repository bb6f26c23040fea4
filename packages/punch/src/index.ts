/**
 * @packageDocumentation
 * TCP hole punching for pyp2p: NAT behaviour detection through a rendezvous server (`preserving`,
 * `reuse`, `delta`, `random`), port prediction, and simultaneous open from a dedicated local port,
 * coordinated by the server (`CANDIDATE` / `CHALLENGE` / `ACCEPT` / `FIGHT`), retried on RST and bounded
 * in attempts and time. A punch hands back a `@pyp2p/framing` `LineSocket`; a failure is a `PunchError`
 * naming the `stage` (`detection`, `coordination`, `punch`) and a `code`.
 *
 * @example
 * ```ts
 * import { RendezvousClient, acceptChallenges, detectNat, punch } from '@pyp2p/punch'
 *
 * // a running @pyp2p/bootstrap-server (`npx @pyp2p/bootstrap-server --host 127.0.0.1 --port 8000`);
 * // on one machine both nodes are un-NATted and the punch is `direct`, across NATs a simultaneous open
 * const server = { host: '127.0.0.1', port: 8000 }
 * const a = 'aa'.repeat(20), b = 'bb'.repeat(20)
 *
 * // Node B: register as a simultaneous node and answer challenges.
 * const natB = await detectNat({ server, nodeId: b })
 * const reg = await RendezvousClient.connect({ server, nodeId: b })
 * await reg.registerSimultaneous(1)
 * acceptChallenges({ client: reg, server, nat: natB, onConnection: ({ connection }) => connection.sendLine('hi') })
 *
 * // Node A: punch to B.
 * const natA = await detectNat({ server, nodeId: a })
 * const { connection, method, attempts, durationMs } = await punch({ server, nodeId: a, target: b, nat: natA })
 * console.log(method, attempts, durationMs, await connection.readLine({ timeout: 5000 })) // ... 'hi'
 * ```
 */

export { withProof } from './command-proof.js'
export * from './constants.js'
export { type DetectInboundOptions, detectInbound, type InboundPolicy } from './detect-inbound.js'
export { type DetectNatOptions, detectNat } from './detect-nat.js'
export { isPunchError, PunchError, type PunchErrorCode, type PunchStage } from './errors.js'
export {
  type ClassifyOptions,
  classifyNat,
  isPredictable,
  type NatBehaviour,
  type NatSample,
  type NatType,
} from './nat-type.js'
export { predictPorts } from './port-prediction.js'
export {
  type AcceptChallengeOptions,
  type AcceptChallengesOptions,
  acceptChallenge,
  acceptChallenges,
  type PunchMethod,
  type PunchOptions,
  type PunchResult,
  type PunchTuning,
  punch,
} from './punch.js'
export {
  type BootstrapOptions,
  errorFromServer,
  RendezvousClient,
  type RendezvousClientEvents,
  type RendezvousConnectOptions,
  type RequestOptions,
  type ServerAddress,
} from './rendezvous-client.js'
export { RendezvousSession } from './rendezvous-session.js'
export {
  type RegisterReason,
  type Registration,
  type RegistrationKind,
  type RendezvousSessionEvents,
  type RendezvousSessionOptions,
  type SessionTimers,
  systemTimers,
} from './session-options.js'
export {
  type SimultaneousOpenOptions,
  type SimultaneousOpenResult,
  simultaneousOpen,
} from './simultaneous-open.js'
