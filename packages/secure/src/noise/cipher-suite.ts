/**
 * The Noise cipher functions we speak (Noise section 12): their names in a Noise protocol name, the
 * node:crypto (OpenSSL) algorithm, and how the 96-bit nonce is made from the 64-bit counter.
 *
 * - `AESGCM` (section 12.4): AES-256-GCM, nonce = 32 zero bits then the counter big-endian. With AES
 *   instructions in the CPU (x86-64 AES-NI, ARMv8 crypto extensions) it is the faster of the two here
 *   (bench:secure, 4 KiB lines).
 * - `ChaChaPoly` (section 12.3): ChaCha20-Poly1305, nonce = 32 zero bits then the counter
 *   little-endian. Faster on CPUs without AES instructions (e.g. a Raspberry Pi 4), and the one
 *   libp2p-noise speaks.
 */

/** A Noise cipher name, as it appears in the protocol name (`Noise_XX_25519_<cipher>_SHA256`). */
export type NoiseCipher = 'AESGCM' | 'ChaChaPoly'

/** Every cipher we speak, in our default order of preference. */
export const NOISE_CIPHERS: readonly NoiseCipher[] = ['AESGCM', 'ChaChaPoly']

export interface CipherSuite {
  readonly name: NoiseCipher
  /** The node:crypto algorithm. */
  readonly algorithm: 'aes-256-gcm' | 'chacha20-poly1305'
  /** Writes counter `n` into the 12-byte `nonce` (whose first 4 bytes stay 0). */
  readonly writeNonce: (nonce: Buffer, n: number) => void
}

// A JS number holds the counter exactly below 2^53: split it into its two 32-bit halves.
const high = (n: number): number => Math.floor(n / 2 ** 32)

const SUITES: Readonly<Record<NoiseCipher, CipherSuite>> = {
  AESGCM: {
    name: 'AESGCM',
    algorithm: 'aes-256-gcm',
    writeNonce: (nonce, n) => {
      nonce.writeUInt32BE(high(n), 4)
      nonce.writeUInt32BE(n >>> 0, 8)
    },
  },
  ChaChaPoly: {
    name: 'ChaChaPoly',
    algorithm: 'chacha20-poly1305',
    writeNonce: (nonce, n) => {
      nonce.writeUInt32LE(n >>> 0, 4)
      nonce.writeUInt32LE(high(n), 8)
    },
  },
}

export function isNoiseCipher(name: unknown): name is NoiseCipher {
  return name === 'AESGCM' || name === 'ChaChaPoly'
}

/** Whether `list` is a valid `ciphers` option: a non-empty list of distinct ciphers we speak. */
export function isCipherList(list: unknown): list is readonly NoiseCipher[] {
  return (
    Array.isArray(list) && list.length > 0 && list.every(isNoiseCipher) && new Set(list).size === list.length
  )
}

export function cipherSuite(name: NoiseCipher): CipherSuite {
  return SUITES[name]
}

/** The Noise protocol name of our handshake with `cipher` (XX pattern, X25519, SHA-256). */
export function noiseProtocolName(cipher: NoiseCipher): string {
  return `Noise_XX_25519_${cipher}_SHA256`
}
