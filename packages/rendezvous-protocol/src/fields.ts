/**
 * Validation of the single fields every message is made of. Each `is*` is a predicate used by both the
 * parsers (untrusted input) and the formatters (so nothing invalid is ever sent).
 */
import { isIPv4, isIPv6 } from 'node:net'
import {
  MAX_BOOTSTRAP_NODES,
  MAX_FIGHT_DELAY_MS,
  MAX_INBOUND_LIMIT,
  MAX_PREDICTIONS,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_LENGTH,
  MIN_CLEAR_TOKEN_LENGTH,
  MIN_NONCE_LENGTH,
  NODE_ID_HEX_LENGTH,
} from './constants.js'

const NODE_ID_RE = new RegExp(`^[0-9a-f]{${NODE_ID_HEX_LENGTH}}$`)
const NODE_ID_ANY_CASE_RE = new RegExp(`^[0-9a-fA-F]{${NODE_ID_HEX_LENGTH}}$`)
const TOKEN_RE = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_TOKEN_LENGTH}}$`)
/** Plain decimal, no sign, no leading zeros, at most 10 digits (so `Number` is exact). */
const DECIMAL_RE = /^(?:0|[1-9][0-9]{0,9})$/
/** Printable ASCII text (space through tilde): what `REJECT` reasons and `ERROR` texts may contain. */
const TEXT_RE = /^[\x20-\x7e]*$/
const ERROR_CODE_RE = /^ERR_[A-Z0-9_]{1,60}$/

/** A decimal integer string in `[min, max]`, or `undefined`. */
export function parseDecimal(word: string | undefined, min: number, max: number): number | undefined {
  if (word === undefined || !DECIMAL_RE.test(word)) return undefined
  const n = Number(word)
  return n >= min && n <= max ? n : undefined
}

export function isPort(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65_535
}

export function isBootstrapCount(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_BOOTSTRAP_NODES
}

export function isMaxInbound(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_INBOUND_LIMIT
}

export function isDelayMs(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_FIGHT_DELAY_MS
}

export function isVersion(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 9_999
}

/** A node id as sent by this package: 40 lower-case hex characters. */
export function isNodeId(s: unknown): s is string {
  return typeof s === 'string' && NODE_ID_RE.test(s)
}

/** Parses a node id in either case (peers may send upper case); returns it lower-cased. */
export function parseNodeId(word: string | undefined): string | undefined {
  return word !== undefined && NODE_ID_ANY_CASE_RE.test(word) ? word.toLowerCase() : undefined
}

/** Punch ids and ping tokens: 1..64 of `[A-Za-z0-9_-]`. */
export function isToken(s: unknown): s is string {
  return typeof s === 'string' && TOKEN_RE.test(s)
}

/** A `<clear-token>`: {@link MIN_CLEAR_TOKEN_LENGTH}..64 of `[A-Za-z0-9_-]`. */
export function isClearToken(s: unknown): s is string {
  return isToken(s) && s.length >= MIN_CLEAR_TOKEN_LENGTH
}

/** A `HELLO` nonce: {@link MIN_NONCE_LENGTH}..64 of `[A-Za-z0-9_-]`. */
export function isNonce(s: unknown): s is string {
  return isToken(s) && s.length >= MIN_NONCE_LENGTH
}

/** A server id (`HELLO ... server=<id>`): 1..64 of `[A-Za-z0-9_.:-]` (a name, a host:port, a random id). */
export function isServerId(s: unknown): s is string {
  return typeof s === 'string' && /^[A-Za-z0-9_.:-]{1,64}$/.test(s)
}

/** An IPv4 dotted quad or an IPv6 address without brackets or zone id. */
export function isIp(s: unknown): s is string {
  return typeof s === 'string' && (isIPv4(s) || (isIPv6(s) && !s.includes('%')))
}

/** A `HELLO` extension word: 1..64 printable ASCII characters without spaces. */
export function isExtension(s: unknown): s is string {
  return typeof s === 'string' && /^[\x21-\x7e]{1,64}$/.test(s)
}

/** `ERR_` followed by upper-case letters, digits and underscores. */
export function isErrorCode(s: unknown): s is string {
  return typeof s === 'string' && ERROR_CODE_RE.test(s)
}

/** Printable ASCII, at most {@link MAX_TEXT_LENGTH} characters, no leading/trailing space. */
export function isText(s: unknown, allowEmpty: boolean): s is string {
  return (
    typeof s === 'string' &&
    s.length <= MAX_TEXT_LENGTH &&
    (allowEmpty || s.length > 0) &&
    TEXT_RE.test(s) &&
    s.trim() === s &&
    !/ {2}/.test(s)
  )
}

/** A non-empty list of at most {@link MAX_PREDICTIONS} ports. */
export function isPortList(ports: unknown): ports is readonly number[] {
  return Array.isArray(ports) && ports.length >= 1 && ports.length <= MAX_PREDICTIONS && ports.every(isPort)
}

/** Parses every word as a port; `undefined` if any is not one or the count is out of range. */
export function parsePortList(words: readonly string[]): number[] | undefined {
  if (words.length < 1 || words.length > MAX_PREDICTIONS) return undefined
  const ports: number[] = []
  for (const w of words) {
    const p = parseDecimal(w, 1, 65_535)
    if (p === undefined) return undefined
    ports.push(p)
  }
  return ports
}
