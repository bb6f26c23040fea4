/**
 * The relay's line protocol (version 1), lines over @pyp2p/framing (`\r\n`).
 *
 * ```
 * client: RELAY PYP2P-MSG/1 <node-id>             first line; identifies a relay connection
 * server: CHALLENGE <challenge>                   32 random bytes, base64url
 * client: AUTH <public-key> <signature>           Ed25519 over "pyp2p-relay-auth/1|<node-id>|<challenge>"
 * server: WELCOME <node-id> <observed-ip> <observed-port>   or ERROR ERR_AUTH_FAILED ... and close
 * client: SEND <msg-id> <to-node-id> <payload>    payload: the message's UTF-8 bytes, base64url
 * server: SENT <msg-id>  |  FAIL <msg-id> <CODE> <text>
 * server: MSG <from-node-id> <msg-id> <from-ip> <payload>   pushed; the relay keeps it until ACKed
 * client: ACK <from-node-id> <msg-id>             no reply
 * client: PING <token>   server: PONG <token>
 * client: QUIT                                    the relay closes the connection
 * server: ERROR <CODE> <text>                     a line it could not read; the connection stays open
 * ```
 * Message ids are chosen by the sender (1-32 base64url characters), so a send repeated after a
 * reconnect is recognised as the same message by the relay and by the recipient.
 */

import { isNodeId } from '@pyp2p/identity'
import { RELAY_FIRST_WORD, RELAY_PROTOCOL } from './constants.js'
import { RelayError } from './errors.js'

export type ClientLine =
  | { type: 'SEND'; id: string; to: string; payload: string }
  | { type: 'ACK'; from: string; id: string }
  | { type: 'PING'; token: string }
  | { type: 'QUIT' }

export type ServerLine =
  | { type: 'CHALLENGE'; challenge: string }
  | { type: 'WELCOME'; nodeId: string; address: string; port: number }
  | { type: 'SENT'; id: string }
  | { type: 'FAIL'; id: string; code: string; text: string }
  | { type: 'MSG'; from: string; id: string; fromAddress: string; payload: string }
  | { type: 'PONG'; token: string }
  | { type: 'ERROR'; code: string; text: string }

const ID_RE = /^[A-Za-z0-9_-]{1,32}$/
const B64URL_RE = /^[A-Za-z0-9_-]+$/
const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/
const CODE_RE = /^ERR_[A-Z_]{1,40}$/
const ADDRESS_RE = /^[0-9A-Fa-f.:]{2,45}$/

/** The first line of a relay connection. */
export function formatHello(nodeId: string): string {
  return `${RELAY_FIRST_WORD} ${RELAY_PROTOCOL} ${nodeId}`
}

/** Whether a connection's first line is meant for the relay (bootstrap-server uses this to route it). */
export function isRelayHello(line: string): boolean {
  return line.startsWith(`${RELAY_FIRST_WORD} `)
}

/** The node id of a relay hello line; throws ERR_BAD_LINE / ERR_PROTOCOL / ERR_INVALID_NODE_ID. */
export function parseHello(line: string): string {
  const parts = line.split(' ')
  if (parts.length !== 3 || parts[0] !== RELAY_FIRST_WORD) {
    throw RelayError.BAD_LINE(`expected "${RELAY_FIRST_WORD} ${RELAY_PROTOCOL} <node-id>"`)
  }
  if (parts[1] !== RELAY_PROTOCOL) throw RelayError.PROTOCOL(`unsupported version ${parts[1]}`)
  if (!isNodeId(parts[2])) throw RelayError.INVALID_NODE_ID(parts[2]!)
  return parts[2]
}

/** Parse the AUTH line; throws ERR_AUTH_FAILED when it is anything else. */
export function parseAuth(line: string): { publicKey: string; signature: string } {
  const parts = line.split(' ')
  if (parts.length !== 3 || parts[0] !== 'AUTH')
    throw RelayError.AUTH_FAILED('expected AUTH <key> <signature>')
  return { publicKey: parts[1]!, signature: parts[2]! }
}

/** Parse a client line after authentication; throws RelayError ERR_BAD_LINE (or a more exact code). */
export function parseClientLine(line: string): ClientLine {
  const parts = line.split(' ')
  const n = parts.length
  switch (parts[0]) {
    case 'SEND': {
      if (n !== 4) throw RelayError.BAD_LINE('expected SEND <msg-id> <to-node-id> <payload>')
      const [, id, to, payload] = parts as [string, string, string, string]
      if (!ID_RE.test(id)) throw RelayError.BAD_LINE('message id must be 1-32 base64url characters')
      if (!isNodeId(to)) throw RelayError.INVALID_NODE_ID(to)
      if (!B64URL_RE.test(payload) || payload.length % 4 === 1) {
        throw RelayError.INVALID_MESSAGE('payload must be non-empty base64url')
      }
      return { type: 'SEND', id, to, payload }
    }
    case 'ACK': {
      if (n !== 3 || !isNodeId(parts[1]) || !ID_RE.test(parts[2]!)) {
        throw RelayError.BAD_LINE('expected ACK <from-node-id> <msg-id>')
      }
      return { type: 'ACK', from: parts[1], id: parts[2]! }
    }
    case 'PING':
      if (n !== 2 || !TOKEN_RE.test(parts[1]!)) throw RelayError.BAD_LINE('expected PING <token>')
      return { type: 'PING', token: parts[1]! }
    case 'QUIT':
      if (n !== 1) throw RelayError.BAD_LINE('expected QUIT')
      return { type: 'QUIT' }
    default:
      throw RelayError.BAD_LINE(`unknown command ${JSON.stringify(parts[0]!.slice(0, 20))}`)
  }
}

/** Parse a line from the relay; throws RelayError ERR_PROTOCOL when it is not one. */
export function parseServerLine(line: string): ServerLine {
  const parts = line.split(' ')
  const n = parts.length
  const rest = (from: number): string => parts.slice(from).join(' ')
  const bad = (what: string): RelayError => RelayError.PROTOCOL(`malformed ${what} line`)
  switch (parts[0]) {
    case 'CHALLENGE':
      if (n !== 2 || !B64URL_RE.test(parts[1]!)) throw bad('CHALLENGE')
      return { type: 'CHALLENGE', challenge: parts[1]! }
    case 'WELCOME': {
      const port = Number(parts[3])
      if (n !== 4 || !isNodeId(parts[1]) || !ADDRESS_RE.test(parts[2]!)) throw bad('WELCOME')
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw bad('WELCOME')
      return { type: 'WELCOME', nodeId: parts[1], address: parts[2]!, port }
    }
    case 'SENT':
      if (n !== 2 || !ID_RE.test(parts[1]!)) throw bad('SENT')
      return { type: 'SENT', id: parts[1]! }
    case 'FAIL':
      if (n < 3 || !ID_RE.test(parts[1]!) || !CODE_RE.test(parts[2]!)) throw bad('FAIL')
      return { type: 'FAIL', id: parts[1]!, code: parts[2]!, text: rest(3) }
    case 'MSG': {
      const [, from, id, fromAddress, payload] = parts as [string, string, string, string, string]
      if (n !== 5 || !isNodeId(from) || !ID_RE.test(id) || !ADDRESS_RE.test(fromAddress)) throw bad('MSG')
      if (!B64URL_RE.test(payload)) throw bad('MSG')
      return { type: 'MSG', from, id, fromAddress, payload }
    }
    case 'PONG':
      if (n !== 2 || !TOKEN_RE.test(parts[1]!)) throw bad('PONG')
      return { type: 'PONG', token: parts[1]! }
    case 'ERROR':
      if (n < 2 || !CODE_RE.test(parts[1]!)) throw bad('ERROR')
      return { type: 'ERROR', code: parts[1]!, text: rest(2) }
    default:
      throw RelayError.PROTOCOL(`unknown reply ${JSON.stringify(parts[0]!.slice(0, 20))}`)
  }
}

/** `ERROR <CODE> <text>` (text on one line). */
export function formatError(err: RelayError): string {
  return `ERROR ${err.code} ${oneLine(err.message)}`
}

/** `FAIL <msg-id> <CODE> <text>`. */
export function formatFail(id: string, err: RelayError): string {
  return `FAIL ${id} ${err.code} ${oneLine(err.message)}`
}

/** UTF-8 bytes of a message as base64url; the size check is the caller's. */
export function encodePayload(message: string): string {
  return Buffer.from(message, 'utf8').toString('base64url')
}

/** The message of a base64url payload. */
export function decodePayload(payload: string): string {
  return Buffer.from(payload, 'base64url').toString('utf8')
}

/** Bytes a base64url payload decodes to. */
export function payloadBytes(payload: string): number {
  return Math.floor((payload.length * 3) / 4)
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ')
}
