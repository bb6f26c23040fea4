/**
 * Signature checks for a server that sees the same keys again and again (a rendezvous server checks a
 * node's key at its registration and at every punch it asks for): a `Verifier` keeps the imported key
 * objects and node ids of the most recently used public keys, so a repeated key costs neither the
 * import nor the hash. Bounded: at most `maxKeys` entries, the least recently used one evicted first
 * (each entry is about 1.4 KB of RSS, most of it OpenSSL's key: measured on Node 20).
 *
 * Entries are keyed by the key's one canonical base64url spelling (`parsePublicKey` accepts no other),
 * and an entry holds the key object made from exactly those bytes: a cached key can only ever check
 * signatures as itself. A key that does not parse is never cached.
 */

import { verify as edVerify, type KeyObject } from 'node:crypto'
import { DEFAULT_VERIFIER_MAX_KEYS } from './constants.js'
import { IdentityError } from './errors.js'
import { nodeIdFromPublicKey, parsePublicKey, publicKeyObject } from './keys.js'
import { type SignedData, signatureBytes, signedBytes } from './signing.js'

export interface VerifierOptions {
  /**
   * Public keys kept (key object and node id), least recently used evicted first. Default
   * `DEFAULT_VERIFIER_MAX_KEYS` (1,024, about 1.4 MB when full). 0 keeps none.
   */
  readonly maxKeys?: number
}

interface Entry {
  readonly key: KeyObject
  readonly nodeId: string
}

/** Counters since construction (for stats and tests). */
export interface VerifierStats {
  readonly size: number
  readonly maxKeys: number
  readonly hits: number
  readonly misses: number
  readonly evictions: number
}

export class Verifier {
  readonly maxKeys: number
  /** Map iteration order is insertion order: a hit re-inserts, so the first entry is the LRU one. */
  readonly #entries = new Map<string, Entry>()
  #hits = 0
  #misses = 0
  #evictions = 0

  constructor(options: VerifierOptions = {}) {
    const maxKeys = options.maxKeys ?? DEFAULT_VERIFIER_MAX_KEYS
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 0) {
      throw IdentityError.INVALID_OPTION('maxKeys', maxKeys, 'a non-negative integer')
    }
    this.maxKeys = maxKeys
  }

  /** Keys held now. */
  get size(): number {
    return this.#entries.size
  }

  stats(): VerifierStats {
    return {
      size: this.#entries.size,
      maxKeys: this.maxKeys,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    }
  }

  /** The node id of `publicKey` (as `nodeIdFromPublicKey`); throws `ERR_INVALID_PUBLIC_KEY`. */
  nodeIdOf(publicKey: string | Uint8Array): string {
    return this.#entry(publicKey).nodeId
  }

  /**
   * Whether `signature` is the signature of `publicKey` over `data` for `context` (as `verify()`):
   * false for a malformed key or signature, throws `ERR_INVALID_CONTEXT` for a bad context.
   */
  verify(
    publicKey: string | Uint8Array,
    context: string,
    data: SignedData,
    signature: string | Uint8Array,
  ): boolean {
    const message = signedBytes(context, data)
    const sig = signatureBytes(signature)
    if (sig === null) return false
    try {
      return edVerify(null, message, this.#entry(publicKey).key, sig)
    } catch {
      return false
    }
  }

  /** Forgets every key. */
  clear(): void {
    this.#entries.clear()
  }

  #entry(publicKey: string | Uint8Array): Entry {
    // Bytes are looked up by their base64url text: the one spelling parsePublicKey accepts.
    const text =
      typeof publicKey === 'string' ? publicKey : Buffer.from(parsePublicKey(publicKey)).toString('base64url')
    const cached = this.#entries.get(text)
    if (cached !== undefined) {
      this.#hits++
      this.#entries.delete(text)
      this.#entries.set(text, cached)
      return cached
    }
    this.#misses++
    // Throws for anything but a canonical key, before anything is stored.
    const raw = parsePublicKey(text)
    let key: KeyObject
    try {
      key = publicKeyObject(raw)
    } catch (error) {
      throw IdentityError.INVALID_PUBLIC_KEY('not a point of Ed25519', error)
    }
    const entry: Entry = { key, nodeId: nodeIdFromPublicKey(raw) }
    if (this.maxKeys === 0) return entry
    if (this.#entries.size >= this.maxKeys) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
      this.#evictions++
    }
    // A copy of the text: a key parsed out of a line must not keep the whole line alive.
    this.#entries.set(Buffer.from(text, 'latin1').toString('latin1'), entry)
    return entry
  }
}
