/**
 * The dial-back line: what a server sends on the connection it opens to answer `CHECK`, and how the
 * node's listener tells such a probe from a peer. The probe connection carries exactly this one line and
 * is then closed by the server; it is never a peer.
 */
import { DIAL_BACK_PROTOCOL, MAX_DIAL_BACK_LINE_LENGTH } from './constants.js'
import { RendezvousProtocolError } from './errors.js'
import { isToken } from './fields.js'

export { formatDialBackLine } from './format.js'

/** The bytes every dial-back connection starts with (`PYP2P-DIALBACK/1 `). */
export const DIAL_BACK_PREFIX = `${DIAL_BACK_PROTOCOL} `

/**
 * True when `start` (the first bytes of a connection, any length) could still be a dial-back line:
 * a listener that has read only part of the first line can stop looking as soon as this is false.
 */
export function mayBeDialBack(start: string): boolean {
  const n = Math.min(start.length, DIAL_BACK_PREFIX.length)
  return start.slice(0, n) === DIAL_BACK_PREFIX.slice(0, n)
}

/**
 * Parses a dial-back line (no terminator) and returns its nonce. Throws `ERR_MALFORMED` for anything
 * else (and `ERR_LINE_TOO_LONG` past {@link MAX_DIAL_BACK_LINE_LENGTH}).
 */
export function parseDialBackLine(line: string): string {
  if (typeof line !== 'string' || line.length > MAX_DIAL_BACK_LINE_LENGTH) {
    throw RendezvousProtocolError.LINE_TOO_LONG(String(line).length, MAX_DIAL_BACK_LINE_LENGTH)
  }
  const nonce = line.startsWith(DIAL_BACK_PREFIX) ? line.slice(DIAL_BACK_PREFIX.length) : undefined
  if (!isToken(nonce)) {
    throw RendezvousProtocolError.MALFORMED(
      DIAL_BACK_PROTOCOL,
      `expected ${DIAL_BACK_PROTOCOL} <nonce> with a nonce of 1..64 of [A-Za-z0-9_-]`,
      line,
    )
  }
  return nonce
}
