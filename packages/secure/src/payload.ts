/**
 * The handshake payload that binds a Noise session to a node identity (as libp2p-noise does): the
 * node's Ed25519 public key and its signature of the Noise static key under `STATIC_KEY_CONTEXT`.
 */

import { type NodeIdentity, nodeIdFromPublicKey, verify } from '@pyp2p/identity'
import { PAYLOAD_LENGTH, STATIC_KEY_CONTEXT } from './constants.js'
import { SecureError } from './errors.js'

const KEY_LENGTH = 32

export interface RemoteIdentity {
  /** The peer's Ed25519 public key, base64url. */
  publicKey: string
  nodeId: string
}

/** Our payload: identity public key (32 bytes) then signature of `staticKey` (64 bytes). */
export function encodePayload(identity: NodeIdentity, staticKey: Uint8Array): Buffer {
  return Buffer.concat([identity.publicKeyBytes, identity.sign(STATIC_KEY_CONTEXT, staticKey)])
}

/** Checks the peer's payload against its Noise static key; throws `ERR_HANDSHAKE_*`. */
export function checkPayload(payload: Buffer, remoteStatic: Uint8Array): RemoteIdentity {
  if (payload.length !== PAYLOAD_LENGTH) {
    throw SecureError.HANDSHAKE_MALFORMED(
      `identity payload of ${payload.length} bytes, want ${PAYLOAD_LENGTH}`,
    )
  }
  const key = payload.subarray(0, KEY_LENGTH)
  const signature = payload.subarray(KEY_LENGTH)
  if (!verify(key, STATIC_KEY_CONTEXT, remoteStatic, signature)) {
    throw SecureError.HANDSHAKE_FAILED('the peer identity key did not sign its session key')
  }
  return { publicKey: key.toString('base64url'), nodeId: nodeIdFromPublicKey(key) }
}
