/** fast-check generators of valid messages, shared by the property tests. */
import fc from 'fast-check'
import type { ClientMessage, NodeEntry, ServerMessage } from '../src/index.js'
import { MAX_HELLO_LIFETIME_SECONDS } from '../src/index.js'

export const nodeId = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => Buffer.from(b).toString('hex'))
export const port = fc.integer({ min: 1, max: 65_535 })
export const ports = fc.array(port, { minLength: 1, maxLength: 32 })
export const token = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/)
export const clearToken = fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/)
export const ip = fc.oneof(fc.ipV4(), fc.ipV6())
export const text = fc
  .stringMatching(/^[\x21-\x7e]{1,20}( [\x21-\x7e]{1,20}){0,8}$/)
  .filter((s) => !s.startsWith('punch='))

const b64url = (n: number) =>
  fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('base64url'))
export const proof = fc.record({ publicKey: b64url(32), signature: b64url(64) })
export const nonce = fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/)
export const serverId = fc.stringMatching(/^[A-Za-z0-9_.:-]{1,64}$/)

export const nodeEntry: fc.Arbitrary<NodeEntry> = fc.record(
  {
    nodeType: fc.constantFrom('passive' as const, 'simultaneous' as const),
    nodeId,
    ip,
    port,
    unproven: fc.constant(true as const),
  },
  { requiredKeys: ['nodeType', 'nodeId', 'ip', 'port'] },
)

export const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record(
    {
      type: fc.constant('BOOTSTRAP' as const),
      count: fc.integer({ min: 1, max: 100 }),
      marked: fc.constant(true as const),
    },
    { requiredKeys: ['type', 'count'] },
  ),
  fc.record(
    {
      type: fc.constant('READY' as const),
      nodeType: fc.constantFrom('passive' as const, 'simultaneous' as const),
      port,
      maxInbound: fc.integer({ min: 0, max: 65_535 }),
      nodeId,
      clearToken,
      proof,
    },
    { requiredKeys: ['type', 'nodeType', 'port', 'maxInbound', 'nodeId'] },
  ),
  fc.record({ type: fc.constant('SOURCE' as const), localPort: port }),
  fc.record(
    { type: fc.constant('CANDIDATE' as const), targetNodeId: nodeId, nodeId, ports, proof },
    { requiredKeys: ['type', 'targetNodeId', 'nodeId', 'ports'] },
  ),
  fc.record({ type: fc.constant('ACCEPT' as const), punchId: token, ports }),
  fc.record({ type: fc.constant('REJECT' as const), punchId: token, reason: text }),
  fc.constant({ type: 'CLEAR' as const }),
  fc.record(
    { type: fc.constant('CLEAR' as const), nodeId, clearToken, proof },
    { requiredKeys: ['type', 'nodeId', 'clearToken'] },
  ),
  fc.record({ type: fc.constant('CHECK' as const), port, nonce: token }),
  fc.record({
    type: fc.constant('INBOUND' as const),
    policy: fc.constantFrom('rst' as const, 'drop' as const),
  }),
  fc.constant({ type: 'QUIT' as const }),
  fc.record({ type: fc.constantFrom('PING' as const, 'PONG' as const), token }),
)

export const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record(
    {
      type: fc.constant('HELLO' as const),
      version: fc.integer({ min: 1, max: 9999 }),
      ip,
      port,
      nonce,
      serverId,
      lifetimeSeconds: fc.integer({ min: 1, max: MAX_HELLO_LIFETIME_SECONDS }),
      connectionProofs: fc.constant(true as const),
      extensions: fc.array(
        fc
          .stringMatching(/^[\x21-\x7e]{1,64}$/)
          .filter((e) => !/^(nonce|server|lifetime)=/.test(e) && e !== 'proofs=connection'),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ['type', 'version', 'ip', 'port', 'extensions'] },
  ),
  fc.record({ type: fc.constant('NODES' as const), nodes: fc.array(nodeEntry, { maxLength: 100 }) }),
  fc.record({
    type: fc.constant('OK' as const),
    what: fc.constantFrom(
      'PASSIVE' as const,
      'SIMULTANEOUS' as const,
      'CLEAR' as const,
      'REJECT' as const,
      'INBOUND' as const,
    ),
  }),
  fc.record({ type: fc.constant('REMOTE' as const), port }),
  fc.record({ type: fc.constant('REACHABLE' as const), port, reachable: fc.constant(true) }),
  fc.record({ type: fc.constant('REACHABLE' as const), port, reachable: fc.constant(false), reason: text }),
  fc.record({ type: fc.constant('PREDICTION_SET' as const), punchId: token }),
  fc.record({ type: fc.constant('CHALLENGE' as const), punchId: token, nodeId, ip, ports }),
  fc.record({
    type: fc.constant('FIGHT' as const),
    punchId: token,
    ip,
    ports,
    delayMs: fc.integer({ min: 0, max: 30_000 }),
  }),
  fc.constant({ type: 'RECONNECT' as const }),
  fc.record(
    {
      type: fc.constant('ERROR' as const),
      code: fc.stringMatching(/^ERR_[A-Z0-9_]{1,60}$/),
      punchId: token,
      text: fc.oneof(fc.constant(''), text),
    },
    { requiredKeys: ['type', 'code', 'text'] },
  ),
  fc.record({ type: fc.constantFrom('PING' as const, 'PONG' as const), token }),
)
