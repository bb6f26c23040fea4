/**
 * @packageDocumentation
 * A pyp2p node's identity: one Ed25519 key pair per node, its node id the first 20 bytes of SHA-256 of
 * the public key (40 hex characters; the format the UNL and the relay use). Keys are generated, passed
 * in, or kept in a key file this package creates with mode 0600. Signatures are domain-separated: each
 * names its purpose (`context`), so one made for one purpose never verifies for another.
 *
 * @example
 * ```ts
 * import { NodeIdentity, verify } from '@pyp2p/identity'
 *
 * const me = await NodeIdentity.load('/tmp/pyp2p-example/identity.json', { create: true })
 * const signature = me.sign('pyp2p-example/1', ['server-nonce', 'REGISTER'])
 * console.log(me.nodeId, verify(me.publicKey, 'pyp2p-example/1', ['server-nonce', 'REGISTER'], signature)) // <id> true
 * console.log(verify(me.publicKey, 'pyp2p-other/1', ['server-nonce', 'REGISTER'], signature)) // false
 * ```
 */
export {
  DEFAULT_VERIFIER_MAX_KEYS,
  ED25519_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  KEY_FILE_MODE,
  MAX_CONTEXT_LENGTH,
  NODE_ID_HEX_LENGTH,
  RELAY_AUTH_CONTEXT,
  SIGNATURE_DOMAIN,
} from './constants.js'
export { IdentityError, type IdentityErrorCode } from './errors.js'
export { formatKeyFile, type KeyFileContent, type LoadIdentityOptions, parseKeyFile } from './key-file.js'
export { isNodeId, nodeIdFromPublicKey, parsePublicKey } from './keys.js'
export { NodeIdentity } from './node-identity.js'
export { verifyChallenge } from './relay-auth.js'
export { checkContext, type SignedData, signedBytes, verify } from './signing.js'
export { Verifier, type VerifierOptions, type VerifierStats } from './verifier.js'
