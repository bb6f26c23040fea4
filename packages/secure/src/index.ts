/**
 * @packageDocumentation
 * Authenticated, encrypted pyp2p connections. A mutual handshake on a connected socket — Noise XX
 * (X25519, AES-256-GCM or ChaCha20-Poly1305, SHA-256, all from node:crypto) with each side's Ed25519 node identity
 * signing its Noise static key — then an encrypted, integrity-checked duplex. The dialler can name the
 * node id it expects; another key fails with `ERR_PEER_ID_MISMATCH` before any application byte.
 *
 * @example
 * ```ts
 * import { connect, createServer } from 'node:net'
 * import { NodeIdentity } from '@pyp2p/identity'
 * import { secureInbound, secureOutbound } from '@pyp2p/secure'
 *
 * const alice = NodeIdentity.generate()
 * const bob = NodeIdentity.generate()
 * const server = createServer(async (socket) => {
 *   const { stream, remoteNodeId } = await secureInbound(socket, { identity: bob })
 *   stream.end(`hello ${remoteNodeId}\n`)
 * }).listen(0, '127.0.0.1')
 * await new Promise((resolve) => server.once('listening', resolve))
 * const { port } = server.address() as { port: number }
 *
 * const socket = connect(port, '127.0.0.1')
 * const { stream } = await secureOutbound(socket, { identity: alice, expectedNodeId: bob.nodeId })
 * for await (const chunk of stream) console.log(String(chunk)) // hello <alice's node id>
 * server.close()
 * ```
 */
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  MAX_FRAME_LENGTH,
  MAX_FRAME_PLAINTEXT,
  SECURE_PROLOGUE_LINE,
  SECURE_PROLOGUE_PREFIX,
  SECURE_PROLOGUE_V2,
  STATIC_KEY_CONTEXT,
} from './constants.js'
export { SecureError, type SecureErrorCode } from './errors.js'
export {
  type SecureOptions,
  type SecureOutboundOptions,
  type SecureSession,
  secureInbound,
  secureOutbound,
} from './handshake.js'
export { isCipherList, NOISE_CIPHERS, type NoiseCipher, noiseProtocolName } from './noise/cipher-suite.js'
export { isSecurePrologue } from './prologue.js'
export { SecureStream } from './secure-stream.js'
