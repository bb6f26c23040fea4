/**
 * The relay's AUTH signature (`@pyp2p/dht-msg`), kept byte for byte: the signed bytes are
 * `pyp2p-relay-auth/1|<node-id>|<challenge>` (UTF-8). New purposes use `sign(context, data)` instead.
 */

import { sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto'
import { RELAY_AUTH_CONTEXT } from './constants.js'
import { nodeIdFromPublicKey, parsePublicKey, publicKeyObject } from './keys.js'

function challengeBytes(nodeId: string, challenge: string): Buffer {
  return Buffer.from(`${RELAY_AUTH_CONTEXT}|${nodeId}|${challenge}`, 'utf8')
}

/** The relay AUTH line's signature (base64url) over a challenge. */
export function signRelayChallenge(privateKey: KeyObject, nodeId: string, challenge: string): string {
  return edSign(null, challengeBytes(nodeId, challenge), privateKey).toString('base64url')
}

/**
 * The relay's check of an AUTH line: the key hashes to the claimed id and signed this connection's
 * challenge. Never throws; false for anything malformed.
 */
export function verifyChallenge(
  nodeId: string,
  challenge: string,
  publicKey: string,
  signature: string,
): boolean {
  if (typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false
  try {
    const raw = parsePublicKey(publicKey)
    if (nodeIdFromPublicKey(raw) !== nodeId) return false
    return edVerify(
      null,
      challengeBytes(nodeId, challenge),
      publicKeyObject(raw),
      Buffer.from(signature, 'base64url'),
    )
  } catch {
    return false
  }
}
