/**
 * `formatClientMessage` / `formatServerMessage`: a typed message to its line (without `\r\n`; the framing
 * layer adds it). They check every field with the same rules as the parsers and throw
 * `ERR_INVALID_MESSAGE` rather than put something on the wire the other side would reject, so
 * `parse(format(m))` deep-equals `m` for every message they accept.
 */
import {
  BOOTSTRAP_MARKED_WORD,
  DIAL_BACK_PROTOCOL,
  MAX_BOOTSTRAP_NODES,
  MAX_TEXT_LENGTH,
  PROOF_WORD,
  PROTOCOL_NAME,
  PROTOCOL_TCP,
} from './constants.js'
import { RendezvousProtocolError } from './errors.js'
import {
  isBootstrapCount,
  isClearToken,
  isDelayMs,
  isErrorCode,
  isExtension,
  isIp,
  isMaxInbound,
  isNodeId,
  isPort,
  isPortList,
  isText,
  isToken,
  isVersion,
} from './fields.js'
import { helloFieldWords, isHelloField } from './hello.js'
import type { ClientMessage, ServerMessage } from './messages.js'
import { formatNodeEntry } from './node-entry.js'
import { isProof } from './proof.js'
import type { Proof } from './proof-types.js'

function check(ok: boolean, type: string, what: string): void {
  if (!ok) throw RendezvousProtocolError.INVALID_MESSAGE(type, what)
}

const TOKEN_RULE = 'must be 1..64 of [A-Za-z0-9_-]'
const NODE_ID_RULE = 'must be 40 lower-case hex characters'
const PORTS_RULE = 'must be 1..32 ports 1..65535'
const CLEAR_TOKEN_RULE = 'must be 16..64 of [A-Za-z0-9_-]'

/**
 * Formats a client message. Throws `ERR_INVALID_MESSAGE` when any field is invalid (also for values that
 * are not message objects at all, e.g. from untyped callers).
 */
export function formatClientMessage(msg: ClientMessage): string {
  return guarded(msg, formatClient)
}

/** Formats a server message; throws `ERR_INVALID_MESSAGE` when any field is invalid. */
export function formatServerMessage(msg: ServerMessage): string {
  return guarded(msg, formatServer)
}

/** Turns anything a formatter trips over (a missing array, a getter that throws) into the typed error. */
function guarded<M>(msg: M, format: (m: M) => string): string {
  if (typeof msg !== 'object' || msg === null) {
    throw RendezvousProtocolError.INVALID_MESSAGE(typeof msg, 'a message must be an object with a type')
  }
  try {
    return format(msg)
  } catch (error) {
    if (error instanceof RendezvousProtocolError) throw error
    throw new RendezvousProtocolError(
      'ERR_INVALID_MESSAGE',
      'cannot format message: a field has the wrong shape',
      {
        cause: error,
      },
    )
  }
}

/** `line`, then ` SIG <public-key> <signature>` when the message carries a proof. */
function signed(line: string, type: string, proof: Proof | undefined): string {
  if (proof === undefined) return line
  check(isProof(proof), type, 'proof must be a 43-character base64url key and an 86-character signature')
  return `${line} ${PROOF_WORD} ${proof.publicKey} ${proof.signature}`
}

function formatClient(msg: ClientMessage): string {
  const t = msg.type
  switch (msg.type) {
    case 'BOOTSTRAP':
      check(isBootstrapCount(msg.count), t, 'count must be an integer 1..100')
      check(msg.marked === undefined || msg.marked === true, t, 'marked must be true or absent')
      return msg.marked === true
        ? `BOOTSTRAP ${msg.count} ${BOOTSTRAP_MARKED_WORD}`
        : `BOOTSTRAP ${msg.count}`
    case 'READY': {
      check(msg.nodeType === 'passive' || msg.nodeType === 'simultaneous', t, 'unknown node type')
      check(isPort(msg.port), t, 'port must be 1..65535')
      check(isMaxInbound(msg.maxInbound), t, 'maxInbound must be 0..65535')
      check(isNodeId(msg.nodeId), t, `nodeId ${NODE_ID_RULE}`)
      const word = msg.nodeType === 'passive' ? 'PASSIVE' : 'SIMULTANEOUS'
      const line = `${word} READY ${msg.port} ${msg.maxInbound} ${msg.nodeId}`
      if (msg.clearToken === undefined) return signed(line, t, msg.proof)
      check(isClearToken(msg.clearToken), t, `clearToken ${CLEAR_TOKEN_RULE}`)
      return signed(`${line} ${msg.clearToken}`, t, msg.proof)
    }
    case 'SOURCE':
      check(isPort(msg.localPort), t, 'localPort must be 1..65535')
      return `SOURCE ${PROTOCOL_TCP} ${msg.localPort}`
    case 'CANDIDATE':
      check(isNodeId(msg.targetNodeId), t, `targetNodeId ${NODE_ID_RULE}`)
      check(isNodeId(msg.nodeId), t, `nodeId ${NODE_ID_RULE}`)
      check(isPortList(msg.ports), t, `ports ${PORTS_RULE}`)
      return signed(
        `CANDIDATE ${msg.targetNodeId} ${msg.nodeId} ${PROTOCOL_TCP} ${msg.ports.join(' ')}`,
        t,
        msg.proof,
      )
    case 'ACCEPT':
      check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
      check(isPortList(msg.ports), t, `ports ${PORTS_RULE}`)
      return `ACCEPT ${msg.punchId} ${PROTOCOL_TCP} ${msg.ports.join(' ')}`
    case 'REJECT':
      check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
      check(isText(msg.reason, false), t, 'reason must be 1..256 printable ASCII, single-spaced, not padded')
      return `REJECT ${msg.punchId} ${msg.reason}`
    case 'CLEAR':
      if (msg.nodeId === undefined && msg.clearToken === undefined) {
        check(msg.proof === undefined, t, 'a proof needs nodeId and clearToken')
        return 'CLEAR'
      }
      check(isNodeId(msg.nodeId), t, `nodeId ${NODE_ID_RULE} (nodeId and clearToken go together)`)
      check(isClearToken(msg.clearToken), t, `clearToken ${CLEAR_TOKEN_RULE}`)
      return signed(`CLEAR ${msg.nodeId} ${msg.clearToken}`, t, msg.proof)
    case 'CHECK':
      check(isPort(msg.port), t, 'port must be 1..65535')
      check(isToken(msg.nonce), t, `nonce ${TOKEN_RULE}`)
      return `CHECK ${PROTOCOL_TCP} ${msg.port} ${msg.nonce}`
    case 'INBOUND':
      check(msg.policy === 'rst' || msg.policy === 'drop', t, 'policy must be rst or drop')
      return `INBOUND ${PROTOCOL_TCP} ${msg.policy.toUpperCase()}`
    case 'QUIT':
      return msg.type
    case 'PING':
    case 'PONG':
      check(isToken(msg.token), t, `token ${TOKEN_RULE}`)
      return `${msg.type} ${msg.token}`
    default:
      throw RendezvousProtocolError.INVALID_MESSAGE(String((msg as { type?: unknown }).type), 'unknown type')
  }
}

function formatServer(msg: ServerMessage): string {
  const t = msg.type
  switch (msg.type) {
    case 'HELLO': {
      check(isVersion(msg.version), t, 'version must be an integer 1..9999')
      check(isIp(msg.ip), t, 'ip is not an IP address')
      check(isPort(msg.port), t, 'port must be 1..65535')
      check(
        Array.isArray(msg.extensions) && msg.extensions.every((e) => isExtension(e) && !isHelloField(e)),
        t,
        'extensions must be printable ASCII words, not nonce=/server=/lifetime=/proofs=connection (use their fields)',
      )
      const fields = helloFieldWords(msg)
      if (typeof fields === 'string') throw RendezvousProtocolError.INVALID_MESSAGE(t, fields)
      const words = [...fields, ...msg.extensions]
      const ext = words.length > 0 ? ` ${words.join(' ')}` : ''
      return `HELLO ${PROTOCOL_NAME}/${msg.version} ${msg.ip} ${msg.port}${ext}`
    }
    case 'NODES':
      check(
        Array.isArray(msg.nodes) && msg.nodes.length <= MAX_BOOTSTRAP_NODES,
        t,
        `at most ${MAX_BOOTSTRAP_NODES} nodes`,
      )
      return msg.nodes.length === 0 ? 'NODES EMPTY' : `NODES ${msg.nodes.map(formatNodeEntry).join(' ')}`
    case 'OK':
      check(
        ['PASSIVE', 'SIMULTANEOUS', 'CLEAR', 'REJECT', 'INBOUND'].includes(msg.what),
        t,
        'unknown OK kind',
      )
      return `OK ${msg.what}`
    case 'REMOTE':
      check(isPort(msg.port), t, 'port must be 1..65535')
      return `REMOTE ${PROTOCOL_TCP} ${msg.port}`
    case 'REACHABLE': {
      check(isPort(msg.port), t, 'port must be 1..65535')
      check(typeof msg.reachable === 'boolean', t, 'reachable must be a boolean')
      if (msg.reachable) {
        check(msg.reason === undefined, t, 'a YES has no reason')
        return `REACHABLE ${PROTOCOL_TCP} ${msg.port} YES`
      }
      check(isText(msg.reason, false), t, 'a NO needs a reason of 1..256 printable ASCII, single-spaced')
      return `REACHABLE ${PROTOCOL_TCP} ${msg.port} NO ${msg.reason}`
    }
    case 'PREDICTION_SET':
      check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
      return `PREDICTION SET ${msg.punchId}`
    case 'CHALLENGE':
      check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
      check(isNodeId(msg.nodeId), t, `nodeId ${NODE_ID_RULE}`)
      check(isIp(msg.ip), t, 'ip is not an IP address')
      check(isPortList(msg.ports), t, `ports ${PORTS_RULE}`)
      return `CHALLENGE ${msg.punchId} ${msg.nodeId} ${msg.ip} ${PROTOCOL_TCP} ${msg.ports.join(' ')}`
    case 'FIGHT':
      check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
      check(isIp(msg.ip), t, 'ip is not an IP address')
      check(isPortList(msg.ports), t, `ports ${PORTS_RULE}`)
      check(isDelayMs(msg.delayMs), t, 'delayMs must be an integer 0..30000')
      return `FIGHT ${msg.punchId} ${msg.ip} ${PROTOCOL_TCP} ${msg.ports.join(' ')} ${msg.delayMs}`
    case 'RECONNECT':
      return 'RECONNECT'
    case 'ERROR': {
      check(isErrorCode(msg.code), t, 'code must be ERR_ followed by [A-Z0-9_]')
      check(isText(msg.text, true), t, 'text must be at most 256 printable ASCII, single-spaced, not padded')
      check(!msg.text.startsWith('punch='), t, 'text must not start with punch= (use punchId)')
      const parts = ['ERROR', msg.code]
      if (msg.punchId !== undefined) {
        check(isToken(msg.punchId), t, `punchId ${TOKEN_RULE}`)
        parts.push(`punch=${msg.punchId}`)
      }
      if (msg.text !== '') parts.push(msg.text)
      return parts.join(' ')
    }
    case 'PING':
    case 'PONG':
      check(isToken(msg.token), t, `token ${TOKEN_RULE}`)
      return `${msg.type} ${msg.token}`
    default:
      throw RendezvousProtocolError.INVALID_MESSAGE(String((msg as { type?: unknown }).type), 'unknown type')
  }
}

/**
 * Builds an `ERROR` line from arbitrary text: squeezes blanks, drops non-printable characters and cuts it
 * to the allowed length, so servers can put any message (e.g. a parse error's) on the wire safely.
 */
export function formatError(code: string, text: string, punchId?: string): string {
  let clean = text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
  if (clean.startsWith('punch=')) clean = `punch ${clean.slice('punch='.length)}`
  if (clean.length > MAX_TEXT_LENGTH) clean = clean.slice(0, MAX_TEXT_LENGTH).trimEnd()
  return formatServerMessage(
    punchId === undefined
      ? { type: 'ERROR', code, text: clean }
      : { type: 'ERROR', code, punchId, text: clean },
  )
}

/**
 * The one line a server sends on a dial-back connection (`CHECK`): `PYP2P-DIALBACK/<v> <nonce>`, without
 * terminator. Throws `ERR_INVALID_MESSAGE` for a nonce that is not 1..64 of `[A-Za-z0-9_-]`.
 */
export function formatDialBackLine(nonce: string): string {
  check(isToken(nonce), 'DIALBACK', `nonce ${TOKEN_RULE}`)
  return `${DIAL_BACK_PROTOCOL} ${nonce}`
}
