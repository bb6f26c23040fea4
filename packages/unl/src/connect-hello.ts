/**
 * The first line of a connection made by `connect()`, and the reverse-connect request sent through
 * the relay. Both are untrusted input on the receiving side and parsed strictly.
 */
import { ADMISSION_OK, ADMISSION_REFUSALS, CONNECT_HELLO, NONCE_BYTES, REVERSE_CONNECT } from './constants.js'
import { UnlError } from './errors.js'
import { UNL } from './unl.js'

const NONCE_RE = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`)
const NODE_ID_RE = /^[0-9a-f]{40}$/

export interface ConnectHello {
  nonce: string
  nodeId: string
}

export function formatConnectHello(nonce: string, nodeId: string): string {
  return `${CONNECT_HELLO} ${nonce} ${nodeId}`
}

/** Parse a connection's first line; throws UnlError ERR_INVALID_HELLO. */
export function parseConnectHello(line: string): ConnectHello {
  const parts = line.split(' ')
  if (parts.length !== 3 || parts[0] !== CONNECT_HELLO) {
    throw UnlError.INVALID_HELLO(`expected "${CONNECT_HELLO} <nonce> <node-id>" as the first line`)
  }
  if (!NONCE_RE.test(parts[1]!))
    throw UnlError.INVALID_HELLO(`the nonce must be ${NONCE_BYTES * 2} hex characters`)
  if (!NODE_ID_RE.test(parts[2]!)) throw UnlError.INVALID_HELLO('the node id must be 40 hex characters')
  return { nonce: parts[1]!, nodeId: parts[2]! }
}

/** A refusal code an acceptor answers a hello with. */
export type AdmissionRefusalCode = (typeof ADMISSION_REFUSALS)[number]

/** Why a node does not take a connection into a slot: the code on the wire and a sentence for humans. */
export interface AdmissionRefusal {
  code: AdmissionRefusalCode
  text: string
}

/** The acceptor's answer to a hello: `OK`, or `<CODE> <text>` (the text on one line). */
export function formatAdmission(refusal?: AdmissionRefusal): string {
  if (refusal === undefined) return ADMISSION_OK
  return `${refusal.code} ${refusal.text.replace(/[\r\n]+/g, ' ')}`.trimEnd()
}

/**
 * Parse the acceptor's answer (untrusted): undefined for `OK`, else the refusal; throws UnlError
 * ERR_INVALID_ADMISSION for anything else.
 */
export function parseAdmission(line: string): AdmissionRefusal | undefined {
  if (line === ADMISSION_OK) return undefined
  const space = line.indexOf(' ')
  const code = space === -1 ? line : line.slice(0, space)
  const known = ADMISSION_REFUSALS.find((c) => c === code)
  if (known === undefined) {
    throw UnlError.INVALID_ADMISSION(
      `expected "${ADMISSION_OK}" or a refusal, got ${JSON.stringify(line.slice(0, 64))}`,
    )
  }
  return { code: known, text: space === -1 ? '' : line.slice(space + 1, space + 1 + 200) }
}

/** The dialler's error for a refusal: ERR_PEER_FULL, or ERR_PEER_REFUSED naming the code. */
export function refusalError(r: AdmissionRefusal): UnlError {
  return r.code === 'ERR_PEER_FULL' ? UnlError.PEER_FULL(r.text) : UnlError.PEER_REFUSED(r.code, r.text)
}

export function formatReverseRequest(ours: UNL, nonce: string): string {
  return `${REVERSE_CONNECT} ${ours.text} ${nonce}`
}

/** Whether a relay message is meant for the reverse-connect handler. */
export function isReverseRequest(message: string): boolean {
  return message.startsWith(`${REVERSE_CONNECT} `)
}

/** Parse `REVERSE_CONNECT <unl> <nonce>`; throws UnlError ERR_INVALID_REVERSE_REQUEST. */
export function parseReverseRequest(message: string): { unl: UNL; nonce: string } {
  const parts = message.split(' ')
  if (parts.length !== 3 || parts[0] !== REVERSE_CONNECT) {
    throw UnlError.INVALID_REVERSE_REQUEST(`expected "${REVERSE_CONNECT} <unl> <nonce>"`)
  }
  if (!NONCE_RE.test(parts[2]!)) {
    throw UnlError.INVALID_REVERSE_REQUEST(`the nonce must be ${NONCE_BYTES * 2} hex characters`)
  }
  let unl: UNL
  try {
    unl = UNL.parse(parts[1]!)
  } catch (err) {
    throw UnlError.INVALID_REVERSE_REQUEST(`bad UNL (${(err as Error).message})`, err)
  }
  return { unl, nonce: parts[2]! }
}
