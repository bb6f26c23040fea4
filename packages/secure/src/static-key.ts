/**
 * A node's Noise static key: made once per identity, with the identity's signature of it computed
 * once, as libp2p-noise keeps one static key per node (its `staticKey`, signed into every handshake
 * payload). A handshake then costs its ephemeral key and DH operations only, not a key generation and
 * an Ed25519 signature. Forward secrecy does not depend on the static key: every XX session mixes in
 * the ephemeral-ephemeral DH (`ee`), so a static key learned later opens no past session
 * (docs/security.md).
 *
 * Kept in a WeakMap keyed by the `NodeIdentity` object: it lives exactly as long as the node's identity
 * does, is never shared between identities, and needs no option threaded through every caller.
 */

import type { NodeIdentity } from '@pyp2p/identity'
import { VERIFIED_PAYLOADS_PER_NODE } from './constants.js'
import { type DhKeyPair, generateDhKeyPair } from './noise/dh.js'
import { encodePayload, VerifiedPayloads } from './payload.js'

export interface LocalStatic {
  readonly keyPair: DhKeyPair
  /** The handshake payload: identity public key and its signature of `keyPair.publicKey`. */
  readonly payload: Buffer
  /** Peers' payloads this node already verified (payload.ts). */
  readonly verified: VerifiedPayloads
}

const byIdentity = new WeakMap<NodeIdentity, LocalStatic>()

/** The static key pair and signed payload of `identity`, made on first use. */
export function localStatic(identity: NodeIdentity): LocalStatic {
  let local = byIdentity.get(identity)
  if (local === undefined) {
    const keyPair = generateDhKeyPair()
    local = {
      keyPair,
      payload: encodePayload(identity, keyPair.publicKey),
      verified: new VerifiedPayloads(VERIFIED_PAYLOADS_PER_NODE),
    }
    byIdentity.set(identity, local)
  }
  return local
}
