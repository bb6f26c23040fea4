/**
 * A node's identity on the relay: an Ed25519 key pair whose public key hashes to the node id, so the
 * relay needs no registration or stored password — a client proves its id by signing a challenge.
 * (The original used a random 30-character password sent in URLs over plain HTTP.)
 */

import type { KeyObject } from 'node:crypto'
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto'
import { AUTH_CONTEXT, NODE_ID_HEX_LENGTH } from './constants.js'
import { RelayError } from './errors.js'

// PKCS#8 DER prefix of an Ed25519 private key (RFC 8410 section 7); the 32-byte seed follows it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
const B64URL_32 = /^[A-Za-z0-9_-]{43}$/
const NODE_ID_RE = /^[0-9a-f]{40}$/

export class NodeIdentity {
  /** 40 hex characters: the first 20 bytes of SHA-256(raw public key). */
  readonly nodeId: string
  /** The raw 32-byte public key, base64url. */
  readonly publicKey: string
  readonly #privateKey: KeyObject
  readonly #secret: string

  private constructor(privateKey: KeyObject) {
    const jwk = privateKey.export({ format: 'jwk' })
    this.#privateKey = privateKey
    this.#secret = jwk.d!
    this.publicKey = jwk.x!
    this.nodeId = nodeIdFromPublicKey(this.publicKey)
  }

  /** A new random identity. */
  static generate(): NodeIdentity {
    return new NodeIdentity(generateKeyPairSync('ed25519').privateKey)
  }

  /** The identity of a secret from `identity.secret` (43 base64url characters). */
  static fromSecret(secret: string): NodeIdentity {
    if (typeof secret !== 'string' || !B64URL_32.test(secret)) {
      throw RelayError.AUTH_FAILED('the secret must be 43 base64url characters (a 32-byte Ed25519 seed)')
    }
    const der = Buffer.concat([PKCS8_ED25519_PREFIX, Buffer.from(secret, 'base64url')])
    return new NodeIdentity(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
  }

  /** The secret (the 32-byte private seed, base64url): store it to keep the same node id. */
  get secret(): string {
    return this.#secret
  }

  /** The AUTH line's signature over the relay's challenge. */
  signChallenge(challenge: string): string {
    return sign(null, challengeBytes(this.nodeId, challenge), this.#privateKey).toString('base64url')
  }

  toJSON(): { nodeId: string; publicKey: string } {
    return { nodeId: this.nodeId, publicKey: this.publicKey }
  }
}

/** The node id of a raw Ed25519 public key (base64url). */
export function nodeIdFromPublicKey(publicKey: string): string {
  return createHash('sha256')
    .update(Buffer.from(publicKey, 'base64url'))
    .digest('hex')
    .slice(0, NODE_ID_HEX_LENGTH)
}

/** Whether `value` is a node id (40 lowercase hex characters). */
export function isNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID_RE.test(value)
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
  if (!B64URL_32.test(publicKey) || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false
  if (nodeIdFromPublicKey(publicKey) !== nodeId) return false
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' })
    return verify(null, challengeBytes(nodeId, challenge), key, Buffer.from(signature, 'base64url'))
  } catch {
    return false
  }
}

function challengeBytes(nodeId: string, challenge: string): Buffer {
  return Buffer.from(`${AUTH_CONTEXT}|${nodeId}|${challenge}`, 'utf8')
}
