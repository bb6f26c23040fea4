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

/**
 * Payloads (with the static key they signed) that verified, so a peer met again costs no Ed25519 check:
 * a peer keeps one static key while it runs, so its payload is the same bytes in every handshake. An
 * entry is keyed by all of those bytes (identity key, signature and static key), so only the very
 * bytes that verified can hit, and a verified signature stays valid. Bounded, oldest entry evicted first.
 */
export class VerifiedPayloads {
  readonly #max: number
  readonly #entries = new Map<string, RemoteIdentity>()

  constructor(max: number) {
    this.#max = max
  }

  get size(): number {
    return this.#entries.size
  }

  /** The identity of a payload that verified with `remoteStatic`, or `undefined`. */
  get(key: string): RemoteIdentity | undefined {
    return this.#entries.get(key)
  }

  add(key: string, remote: RemoteIdentity): void {
    if (this.#max === 0) return
    if (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, remote)
  }
}

/** Checks the peer's payload against its Noise static key; throws `ERR_HANDSHAKE_*`. */
export function checkPayload(
  payload: Buffer,
  remoteStatic: Uint8Array,
  verified?: VerifiedPayloads,
): RemoteIdentity {
  if (payload.length !== PAYLOAD_LENGTH) {
    throw SecureError.HANDSHAKE_MALFORMED(
      `identity payload of ${payload.length} bytes, want ${PAYLOAD_LENGTH}`,
    )
  }
  const cacheKey = verified === undefined ? '' : Buffer.concat([payload, remoteStatic]).toString('base64')
  const known = verified?.get(cacheKey)
  if (known !== undefined) return known
  const key = payload.subarray(0, KEY_LENGTH)
  const signature = payload.subarray(KEY_LENGTH)
  if (!verify(key, STATIC_KEY_CONTEXT, remoteStatic, signature)) {
    throw SecureError.HANDSHAKE_FAILED('the peer identity key did not sign its session key')
  }
  const remote = { publicKey: key.toString('base64url'), nodeId: nodeIdFromPublicKey(key) }
  verified?.add(cacheKey, remote)
  return remote
}
