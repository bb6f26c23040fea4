/**
 * The first line each side sends (its prologue line), and the cipher the two lines agree on.
 *
 *   dialler:  PYP2P-SECURE/2 AESGCM ChaChaPoly\r\n   the ciphers it accepts, in its order of preference
 *   listener: PYP2P-SECURE/2 AESGCM\r\n              the listener's first choice among them
 *
 * Both lines, as sent, are the Noise prologue, so an offer or answer altered on the way fails the
 * handshake (the Noise spec's way to authenticate negotiation data, section 6). Version 1 is one line,
 * `PYP2P-SECURE/1\r\n`, each way and means ChaChaPoly: a dialler that accepts ChaChaPoly only sends it
 * (to reach a node of an earlier build), and a listener answers a version-1 dialler in version 1.
 * A line is text on purpose: a plain-line peer (`secure: false`) can name it in its error, and a
 * secure side that reads a plain hello sees the difference within its first read.
 */

import type { ByteQueue } from './byte-queue.js'
import { SECURE_PROLOGUE_LINE, SECURE_PROLOGUE_PREFIX, SECURE_PROLOGUE_V2 } from './constants.js'
import { SecureError } from './errors.js'
import { isNoiseCipher, type NoiseCipher } from './noise/cipher-suite.js'

const CRLF = '\r\n'
const PREFIX = Buffer.from(SECURE_PROLOGUE_PREFIX, 'ascii')
/** The longest prologue line accepted (CRLF included): a version and a handful of cipher names. */
export const MAX_PROLOGUE_LINE = 128
// How much of the peer's first bytes an error quotes.
const QUOTE_LENGTH = 64

/** What the two prologue lines agreed: the cipher, and the Noise prologue (both lines as sent). */
export interface Agreement {
  cipher: NoiseCipher
  noisePrologue: Buffer
}

/**
 * Whether a first line received by a plain-line (`secure: false`) endpoint is a secure peer's prologue:
 * for the plain side to fail with a clear error instead of a generic bad hello.
 */
export function isSecurePrologue(line: string): boolean {
  return line.startsWith(SECURE_PROLOGUE_PREFIX)
}

/** The dialler's line (CRLF included) for the ciphers it accepts, in its order of preference. */
export function offerLine(ciphers: readonly NoiseCipher[]): Buffer {
  const line =
    ciphers.length === 1 && ciphers[0] === 'ChaChaPoly'
      ? SECURE_PROLOGUE_LINE
      : `${SECURE_PROLOGUE_V2} ${ciphers.join(' ')}`
  return Buffer.from(line + CRLF, 'ascii')
}

/** A listener's line when it fails before its answer (no cipher named), for a plain dialler to read. */
export const REFUSAL_LINE = Buffer.from(SECURE_PROLOGUE_V2 + CRLF, 'ascii')

function isText(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && (byte < 0x20 || byte > 0x7e)) return false
  }
  return true
}

/**
 * Consumes the peer's prologue line from `queue` and returns it without its CRLF once it is all there,
 * `undefined` while more is needed. Throws at the first byte that cannot begin a prologue:
 * `ERR_PLAINTEXT_PEER` for text, `ERR_HANDSHAKE_MALFORMED` for anything else (also a line longer than
 * `MAX_PROLOGUE_LINE` or not ASCII).
 */
export function readPrologueLine(queue: ByteQueue): string | undefined {
  const head = queue.peek(Math.min(queue.length, MAX_PROLOGUE_LINE))
  const prefix = head.subarray(0, PREFIX.length)
  if (!prefix.equals(PREFIX.subarray(0, prefix.length))) {
    const quoted = queue.peek(Math.min(queue.length, QUOTE_LENGTH))
    if (isText(quoted)) throw SecureError.PLAINTEXT_PEER(quoted.toString('latin1').split(/\r?\n/)[0] ?? '')
    throw SecureError.HANDSHAKE_MALFORMED(
      `it does not start with the secure prologue (${quoted.subarray(0, 16).toString('hex')}...)`,
    )
  }
  const end = head.indexOf(CRLF)
  if (end === -1) {
    if (head.length >= MAX_PROLOGUE_LINE)
      throw SecureError.HANDSHAKE_MALFORMED(`a prologue line longer than ${MAX_PROLOGUE_LINE} bytes`)
    return undefined
  }
  const line = head.subarray(0, end)
  if (!isText(line)) throw SecureError.HANDSHAKE_MALFORMED('a prologue line that is not ASCII text')
  queue.take(end + CRLF.length)
  return line.toString('ascii')
}

/** The cipher names of a version-2 line (`undefined`: not version 2); names we do not know are kept. */
function ciphersOf(line: string): string[] | undefined {
  if (line === SECURE_PROLOGUE_V2) return []
  if (!line.startsWith(`${SECURE_PROLOGUE_V2} `)) return undefined
  return line.slice(SECURE_PROLOGUE_V2.length + 1).split(' ')
}

const lines = (...parts: string[]): Buffer => Buffer.from(parts.map((p) => p + CRLF).join(''), 'ascii')

/**
 * The listener's side: the answer line to send (CRLF included) and the agreement, for the dialler's
 * `offer`; `mine` is the listener's ciphers in its order of preference. Throws
 * `ERR_UNSUPPORTED_VERSION` for another version, `ERR_NO_COMMON_CIPHER` when nothing offered is ours.
 */
export function answerOffer(
  offer: string,
  mine: readonly NoiseCipher[],
): { answer: Buffer; agreement: Agreement } {
  if (offer === SECURE_PROLOGUE_LINE) {
    if (!mine.includes('ChaChaPoly')) throw SecureError.NO_COMMON_CIPHER(['ChaChaPoly'], mine)
    return {
      answer: lines(SECURE_PROLOGUE_LINE),
      agreement: { cipher: 'ChaChaPoly', noisePrologue: lines(SECURE_PROLOGUE_LINE) },
    }
  }
  const offered = ciphersOf(offer)
  if (offered === undefined) throw SecureError.UNSUPPORTED_VERSION(offer)
  const cipher = mine.find((c) => offered.includes(c))
  if (cipher === undefined) throw SecureError.NO_COMMON_CIPHER(offered, mine)
  const answer = `${SECURE_PROLOGUE_V2} ${cipher}`
  return { answer: lines(answer), agreement: { cipher, noisePrologue: lines(offer, answer) } }
}

/**
 * The dialler's side: the agreement in the listener's `answer` to our `offer` (both lines without
 * CRLF). Throws `ERR_UNSUPPORTED_VERSION` (e.g. a version-1 listener answering a version-2 offer),
 * `ERR_NO_COMMON_CIPHER` (a listener that named none), `ERR_HANDSHAKE_MALFORMED` (one we did not offer).
 */
export function readAnswer(offer: string, answer: string, offered: readonly NoiseCipher[]): Agreement {
  if (offer === SECURE_PROLOGUE_LINE) {
    if (answer !== SECURE_PROLOGUE_LINE) throw SecureError.UNSUPPORTED_VERSION(answer)
    return { cipher: 'ChaChaPoly', noisePrologue: lines(SECURE_PROLOGUE_LINE) }
  }
  const named = ciphersOf(answer)
  if (named === undefined) throw SecureError.UNSUPPORTED_VERSION(answer)
  if (named.length === 0) throw SecureError.NO_COMMON_CIPHER(offered)
  const [cipher] = named
  if (named.length !== 1 || !isNoiseCipher(cipher) || !offered.includes(cipher)) {
    throw SecureError.HANDSHAKE_MALFORMED(
      `the listener chose ${JSON.stringify(named.join(' '))}, not one we offered`,
    )
  }
  return { cipher, noisePrologue: lines(offer, answer) }
}
