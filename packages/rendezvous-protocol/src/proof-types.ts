/**
 * A proof that the sender of a command owns a node id: its Ed25519 public key (the node id is the first
 * 20 bytes of the key's SHA-256) and a signature over the connection's nonce, the server's id and the
 * command (PROTOCOL.md, "Proofs"). Checked here for form only; the server verifies it.
 */
export interface Proof {
  /** The raw 32-byte Ed25519 public key: 43 base64url characters, canonical (no padding). */
  readonly publicKey: string
  /** The 64-byte Ed25519 signature: 86 base64url characters, canonical (no padding). */
  readonly signature: string
}
