/**
 * The pyp2p rendezvous protocol, version 1: the line protocol spoken between a node and a bootstrap
 * (rendezvous) server. Typed messages, strict parsers for both directions that throw only
 * {@link RendezvousProtocolError}, formatters that refuse to emit anything the other side would reject,
 * and the protocol's constants. PROTOCOL.md in this package documents every message.
 *
 * @example
 * ```ts
 * import { formatClientMessage, parseServerMessage, DEFAULT_PORT } from '@pyp2p/rendezvous-protocol'
 *
 * const line = formatClientMessage({ type: 'BOOTSTRAP', count: 10 }) // 'BOOTSTRAP 10'
 * const reply = parseServerMessage('NODES p:' + 'ab'.repeat(20) + ':198.51.100.7:8000')
 * if (reply.type === 'NODES') {
 *   for (const node of reply.nodes) console.log(node.nodeType, node.nodeId, node.ip, node.port)
 * }
 * console.log(DEFAULT_PORT) // 8000
 * ```
 *
 * @packageDocumentation
 */
export * from './constants.js'
export { DIAL_BACK_PREFIX, formatDialBackLine, mayBeDialBack, parseDialBackLine } from './dial-back.js'
export {
  isRendezvousProtocolError,
  RendezvousProtocolError,
  type RendezvousProtocolErrorCode,
} from './errors.js'
export { isClearToken, isIp, isNodeId, isNonce, isPort, isServerId, isToken } from './fields.js'
export { formatClientMessage, formatError, formatServerMessage } from './format.js'
export type {
  AcceptMessage,
  BootstrapMessage,
  CandidateMessage,
  ChallengeMessage,
  CheckMessage,
  ClearMessage,
  ClientMessage,
  ErrorMessage,
  FightMessage,
  HelloMessage,
  InboundMessage,
  InboundPolicy,
  IpAddress,
  NodeEntry,
  NodeId,
  NodesMessage,
  NodeType,
  OkMessage,
  PingMessage,
  PongMessage,
  PredictionSetMessage,
  Proof,
  QuitMessage,
  ReachableMessage,
  ReadyMessage,
  ReconnectMessage,
  RejectMessage,
  RemoteMessage,
  ServerMessage,
  SourceMessage,
  WireErrorCode,
} from './messages.js'
export { WIRE_ERROR_CODES } from './messages.js'
export { formatNodeEntry, parseNodeEntry } from './node-entry.js'
export { CLIENT_COMMANDS, type ParseOptions, parseClientMessage } from './parse-client.js'
export { parseServerMessage, SERVER_COMMANDS } from './parse-server.js'
export {
  isProof,
  isPublicKey,
  isSignature,
  proofFields,
  SIGNABLE_COMMANDS,
  type SignableMessage,
  splitProof,
  withoutProof,
} from './proof.js'
