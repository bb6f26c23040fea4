/**
 * The circuit relay's wire lines (PYP2P-CIRCUIT/1, lines over @pyp2p/framing), parsed and formatted
 * once for both sides. Every client line starts with `CIRCUIT`, so a host server (bootstrap-server)
 * routes one command word to the relay. See the README for the exchange.
 */
import { CIRCUIT_WORD } from './constants.js'
import { CircuitError } from './errors.js'

const NODE_ID = /^[0-9a-f]{40}$/
const CIRCUIT_ID = /^[0-9a-f]{8,64}$/
const B64URL = /^[A-Za-z0-9_-]{1,200}$/
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/
const UINT = /^(0|[1-9][0-9]{0,15})$/

export type ClientLine =
  | { type: 'RESERVE'; nodeId: string }
  | { type: 'PROVE'; publicKey: string; signature: string }
  | { type: 'PING'; token: string }
  | { type: 'CONNECT'; target: string; dialler: string }
  | { type: 'ACCEPT'; circuitId: string }

/** What a relay tells of its per-circuit limits (bytes per direction, duration in ms). */
export interface CircuitLimits {
  maxBytes: number
  maxDurationMs: number
}

/** Why a circuit ended, as `CIRCUIT END` says: a limit, one end closing, or the relay shutting down. */
export type EndReason = 'bytes' | 'duration' | 'closed' | 'relay'
const END_REASONS = new Set<string>(['bytes', 'duration', 'closed', 'relay'])

export type ServerLine =
  | { type: 'HELLO' }
  | { type: 'CHALLENGE'; nonce: string }
  | ({ type: 'RESERVED'; nodeId: string } & CircuitLimits)
  | { type: 'INCOMING'; circuitId: string; dialler: string; diallerIp: string }
  | { type: 'PONG'; token: string }
  | ({ type: 'OK'; circuitId: string } & CircuitLimits)
  | { type: 'END'; circuitId: string; reason: EndReason }
  | { type: 'ERROR'; error: CircuitError }

function want(ok: boolean, what: string): void {
  if (!ok) throw CircuitError.PROTOCOL(what)
}

function count(word: string | undefined, what: string): number {
  want(word !== undefined && UINT.test(word), `${what} must be a non-negative integer`)
  return Number(word)
}

/** Whether a line is one of ours (its first word is `CIRCUIT`). */
export function isCircuitLine(line: string): boolean {
  return line === CIRCUIT_WORD || line.startsWith(`${CIRCUIT_WORD} `)
}

/** A client's line, validated; throws `ERR_PROTOCOL` saying what is wrong. */
export function parseClientLine(line: string): ClientLine {
  const w = line.split(' ')
  want(w[0] === CIRCUIT_WORD, 'a client line starts with CIRCUIT')
  const n = w.length
  switch (w[1]) {
    case 'RESERVE':
      want(n === 3 && NODE_ID.test(w[2]!), 'RESERVE <node-id>')
      return { type: 'RESERVE', nodeId: w[2]! }
    case 'PROVE':
      want(n === 4 && B64URL.test(w[2]!) && B64URL.test(w[3]!), 'PROVE <public-key> <signature>')
      return { type: 'PROVE', publicKey: w[2]!, signature: w[3]! }
    case 'PING':
      want(n === 3 && TOKEN.test(w[2]!), 'PING <token>')
      return { type: 'PING', token: w[2]! }
    case 'CONNECT':
      want(n === 4 && NODE_ID.test(w[2]!) && NODE_ID.test(w[3]!), 'CONNECT <target-id> <dialler-id>')
      return { type: 'CONNECT', target: w[2]!, dialler: w[3]! }
    case 'ACCEPT':
      want(n === 3 && CIRCUIT_ID.test(w[2]!), 'ACCEPT <circuit-id>')
      return { type: 'ACCEPT', circuitId: w[2]! }
    default:
      throw CircuitError.PROTOCOL(`unknown command ${JSON.stringify((w[1] ?? '').slice(0, 20))}`)
  }
}

/** A relay's line, validated; throws `ERR_PROTOCOL`. `ERROR` lines come back as a typed error. */
export function parseServerLine(line: string): ServerLine {
  const w = line.split(' ')
  if (w[0] === 'HELLO') return { type: 'HELLO' }
  if (w[0] === 'ERROR') {
    want(w.length >= 2, 'ERROR <CODE> <text>')
    return { type: 'ERROR', error: CircuitError.fromWire(w[1]!, w.slice(2).join(' ')) }
  }
  want(w[0] === CIRCUIT_WORD, 'a relay line starts with CIRCUIT, HELLO or ERROR')
  const n = w.length
  switch (w[1]) {
    case 'CHALLENGE':
      want(n === 3 && B64URL.test(w[2]!), 'CHALLENGE <nonce>')
      return { type: 'CHALLENGE', nonce: w[2]! }
    case 'RESERVED':
      want(n === 5 && NODE_ID.test(w[2]!), 'RESERVED <node-id> <max-bytes> <max-duration-ms>')
      return {
        type: 'RESERVED',
        nodeId: w[2]!,
        maxBytes: count(w[3], 'max-bytes'),
        maxDurationMs: count(w[4], 'max-duration'),
      }
    case 'INCOMING':
      want(
        n === 5 && CIRCUIT_ID.test(w[2]!) && NODE_ID.test(w[3]!) && w[4]!.length > 0,
        'INCOMING <circuit-id> <dialler-id> <dialler-ip>',
      )
      return { type: 'INCOMING', circuitId: w[2]!, dialler: w[3]!, diallerIp: w[4]! }
    case 'PONG':
      want(n === 3 && TOKEN.test(w[2]!), 'PONG <token>')
      return { type: 'PONG', token: w[2]! }
    case 'OK':
      want(n === 5 && CIRCUIT_ID.test(w[2]!), 'OK <circuit-id> <max-bytes> <max-duration-ms>')
      return {
        type: 'OK',
        circuitId: w[2]!,
        maxBytes: count(w[3], 'max-bytes'),
        maxDurationMs: count(w[4], 'max-duration'),
      }
    case 'END':
      want(n === 4 && CIRCUIT_ID.test(w[2]!) && END_REASONS.has(w[3]!), 'END <circuit-id> <reason>')
      return { type: 'END', circuitId: w[2]!, reason: w[3] as EndReason }
    default:
      throw CircuitError.PROTOCOL(`unknown relay line ${JSON.stringify((w[1] ?? '').slice(0, 20))}`)
  }
}

export const formatReserve = (nodeId: string): string => `${CIRCUIT_WORD} RESERVE ${nodeId}`
export const formatProve = (publicKey: string, signature: string): string =>
  `${CIRCUIT_WORD} PROVE ${publicKey} ${signature}`
export const formatPing = (token: string): string => `${CIRCUIT_WORD} PING ${token}`
export const formatConnect = (target: string, dialler: string): string =>
  `${CIRCUIT_WORD} CONNECT ${target} ${dialler}`
export const formatAccept = (circuitId: string): string => `${CIRCUIT_WORD} ACCEPT ${circuitId}`
export const formatChallenge = (nonce: string): string => `${CIRCUIT_WORD} CHALLENGE ${nonce}`
export const formatReserved = (nodeId: string, l: CircuitLimits): string =>
  `${CIRCUIT_WORD} RESERVED ${nodeId} ${l.maxBytes} ${l.maxDurationMs}`
export const formatIncoming = (circuitId: string, dialler: string, ip: string): string =>
  `${CIRCUIT_WORD} INCOMING ${circuitId} ${dialler} ${ip}`
export const formatPong = (token: string): string => `${CIRCUIT_WORD} PONG ${token}`
export const formatOk = (circuitId: string, l: CircuitLimits): string =>
  `${CIRCUIT_WORD} OK ${circuitId} ${l.maxBytes} ${l.maxDurationMs}`
export const formatEnd = (circuitId: string, reason: EndReason): string =>
  `${CIRCUIT_WORD} END ${circuitId} ${reason}`

/** `ERROR <CODE> <text>`, the text cleaned to printable ASCII on one line. */
export function formatError(code: string, text: string): string {
  const clean = text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, 300)
  return `ERROR ${code} ${clean}`
}
