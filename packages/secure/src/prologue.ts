/**
 * The first bytes of a secure connection (`PYP2P-SECURE/1\r\n`, each side's first write) and the
 * check of the peer's: it fails at the first byte that differs, so a plain-line peer is recognised in
 * the first read rather than after a timeout.
 */

import type { ByteQueue } from './byte-queue.js'
import { SECURE_PROLOGUE_LINE, SECURE_PROLOGUE_PREFIX } from './constants.js'
import { SecureError } from './errors.js'

/** The prologue bytes on the wire; also the Noise prologue. */
export const PROLOGUE = Buffer.from(`${SECURE_PROLOGUE_LINE}\r\n`, 'ascii')

const PREFIX = Buffer.from(SECURE_PROLOGUE_PREFIX, 'ascii')
// How much of the peer's first bytes an error quotes.
const QUOTE_LENGTH = 64

/**
 * Whether a first line received by a plain-line (`secure: false`) endpoint is a secure peer's prologue:
 * for the plain side to fail with a clear error instead of a generic bad hello.
 */
export function isSecurePrologue(line: string): boolean {
  return line.startsWith(SECURE_PROLOGUE_PREFIX)
}

function isText(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && (byte < 0x20 || byte > 0x7e)) return false
  }
  return true
}

/**
 * Consumes the peer's prologue from `queue` when it is all there (`true`), waits for more while what
 * came matches (`false`), and throws at the first difference: `ERR_UNSUPPORTED_VERSION` for another
 * version's prologue, `ERR_PLAINTEXT_PEER` for text, `ERR_HANDSHAKE_MALFORMED` for anything else.
 */
export function readPrologue(queue: ByteQueue): boolean {
  const got = queue.peek(Math.min(queue.length, PROLOGUE.length))
  const mismatch = got.findIndex((byte, i) => byte !== PROLOGUE[i])
  if (mismatch === -1) {
    if (got.length < PROLOGUE.length) return false
    queue.take(PROLOGUE.length)
    return true
  }
  const head = queue.peek(Math.min(queue.length, QUOTE_LENGTH))
  const line = head.toString('latin1').split(/\r?\n/)[0] ?? ''
  if (mismatch >= PREFIX.length) throw SecureError.UNSUPPORTED_VERSION(line)
  if (isText(head)) throw SecureError.PLAINTEXT_PEER(line)
  throw SecureError.HANDSHAKE_MALFORMED(
    `it does not start with the secure prologue (${head.subarray(0, 16).toString('hex')}...)`,
  )
}
