/**
 * A node's identity: an Ed25519 key pair whose public key hashes to the node id. One key per node
 * proves its id everywhere: relay logins, rendezvous registrations, secure connections.
 */

import { type KeyObject, randomBytes } from 'node:crypto'
import { type LoadIdentityOptions, readOrCreateKeyFile } from './key-file.js'
import { nodeIdFromPublicKey, privateKeyFromSeed, rawPublicKey } from './keys.js'
import { signRelayChallenge } from './relay-auth.js'
import { type SignedData, signWith } from './signing.js'

// PKCS#8 DER of an Ed25519 private key is a 16-byte prefix and the 32-byte seed (RFC 8410 section 7).
const PKCS8_SEED_OFFSET = 16

export class NodeIdentity {
  /** 40 hex characters: the first 20 bytes of SHA-256(raw public key). */
  readonly nodeId: string
  /** The raw 32-byte public key, base64url. */
  readonly publicKey: string
  /** The raw 32-byte public key. */
  readonly publicKeyBytes: Uint8Array
  readonly #privateKey: KeyObject
  readonly #seed: Buffer

  private constructor(privateKey: KeyObject) {
    this.#privateKey = privateKey
    this.#seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_SEED_OFFSET)
    this.publicKeyBytes = rawPublicKey(privateKey)
    this.publicKey = Buffer.from(this.publicKeyBytes).toString('base64url')
    this.nodeId = nodeIdFromPublicKey(this.publicKeyBytes)
  }

  /**
   * A new random identity: 32 random bytes as the Ed25519 seed (RFC 8032 section 5.1.5: any 32 bytes
   * are a private key). Not `generateKeyPairSync('ed25519')`: Node 20 can deadlock a process when a GC
   * frees a key-generation job while that job's key is being exported (seen with X25519 keys, see
   * @pyp2p/secure's dh.ts), and the constructor exports the key; an imported key has no job.
   */
  static generate(): NodeIdentity {
    return NodeIdentity.fromSecret(randomBytes(32))
  }

  /**
   * The identity of a secret: the 32-byte Ed25519 seed, as `identity.secret` gives it (43 base64url
   * characters) or as bytes. Throws `ERR_INVALID_SECRET`.
   */
  static fromSecret(secret: string | Uint8Array): NodeIdentity {
    return new NodeIdentity(privateKeyFromSeed(secret))
  }

  /**
   * The identity in the key file at `path`. With `{ create: true }` a missing file is created (mode
   * 0600, atomically, a new random key). Refuses a file group or others can read
   * (`ERR_KEY_FILE_PERMISSIONS`); `ERR_KEY_FILE_NOT_FOUND`, `ERR_KEY_FILE_INVALID`, `ERR_KEY_FILE_IO`.
   */
  static async load(path: string, options: LoadIdentityOptions = {}): Promise<NodeIdentity> {
    const { secret } = await readOrCreateKeyFile(path, options)
    return NodeIdentity.fromSecret(secret)
  }

  /** The secret (the 32-byte private seed, base64url): store it to keep the same node id. */
  get secret(): string {
    return this.#seed.toString('base64url')
  }

  /**
   * An Ed25519 signature (64 bytes) over `data` for `context` (see `signedBytes`). A signature for one
   * context never verifies for another. Throws `ERR_INVALID_CONTEXT`.
   */
  sign(context: string, data: SignedData): Buffer {
    return signWith(this.#privateKey, context, data)
  }

  /** The relay AUTH line's signature over the relay's challenge (the `@pyp2p/dht-msg` format). */
  signChallenge(challenge: string): string {
    return signRelayChallenge(this.#privateKey, this.nodeId, challenge)
  }

  toJSON(): { nodeId: string; publicKey: string } {
    return { nodeId: this.nodeId, publicKey: this.publicKey }
  }
}
