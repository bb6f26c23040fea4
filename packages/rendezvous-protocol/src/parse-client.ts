/**
 * `parseClientMessage`: what a server calls on every line a client sends. Validates every field and
 * returns a typed {@link ClientMessage}, or throws a {@link RendezvousProtocolError}
 * (`ERR_UNKNOWN_COMMAND`, `ERR_MALFORMED`, `ERR_LINE_TOO_LONG`) and nothing else.
 */
import {
  BOOTSTRAP_MARKED_WORD,
  MAX_BOOTSTRAP_NODES,
  MAX_CLIENT_LINE_LENGTH,
  MAX_INBOUND_LIMIT,
  MIN_CLEAR_TOKEN_LENGTH,
  PROTOCOL_TCP,
} from './constants.js'
import { RendezvousProtocolError } from './errors.js'
import { isClearToken, isText, isToken, parseDecimal, parseNodeId, parsePortList } from './fields.js'
import type { ClientMessage } from './messages.js'
import { SIGNABLE_COMMANDS, splitProof } from './proof.js'
import type { Proof } from './proof-types.js'
import { type LineParse, startParse } from './split.js'

export interface ParseOptions {
  /** Longest accepted line. Default: {@link MAX_CLIENT_LINE_LENGTH} (client lines). */
  readonly maxLineLength?: number
}

/** The command words a client may send, as a set for dispatchers that route other families elsewhere. */
export const CLIENT_COMMANDS: ReadonlySet<string> = new Set([
  'BOOTSTRAP',
  'PASSIVE',
  'SIMULTANEOUS',
  'SOURCE',
  'CANDIDATE',
  'ACCEPT',
  'REJECT',
  'CLEAR',
  'CHECK',
  'INBOUND',
  'QUIT',
  'PING',
  'PONG',
])

const CLEAR_TOKEN_RULE = `clear token must be ${MIN_CLEAR_TOKEN_LENGTH}..64 of [A-Za-z0-9_-]`

const PROOF_RULE = 'SIG must be followed by a public key (43 base64url) and a signature (86 base64url), last'

export function parseClientMessage(line: string, options: ParseOptions = {}): ClientMessage {
  const parsed = startParse(line, options.maxLineLength ?? MAX_CLIENT_LINE_LENGTH)
  const { command, bad } = parsed
  if (command === undefined || !SIGNABLE_COMMANDS.has(command)) return parseUnsigned(line, parsed)
  const { words, proof } = splitProof(parsed.words)
  if (proof === 'malformed') throw bad(PROOF_RULE)
  const msg = parseUnsigned(line, { ...parsed, words: [...words] })
  if (proof === undefined) return msg
  if (msg.type === 'CLEAR' && msg.nodeId === undefined) throw bad('a proof needs <node-id> <clear-token>')
  return { ...msg, proof } as ClientMessage & { proof: Proof }
}

function parseUnsigned(line: string, { words, command, bad, arity }: LineParse): ClientMessage {
  switch (command) {
    case 'BOOTSTRAP': {
      if (words.length !== 2 && words.length !== 3) throw bad('expected <n> [MARKED]')
      const count = parseDecimal(words[1], 1, MAX_BOOTSTRAP_NODES)
      if (count === undefined) throw bad(`n must be an integer 1..${MAX_BOOTSTRAP_NODES}`)
      if (words.length === 2) return { type: 'BOOTSTRAP', count }
      if (words[2] !== BOOTSTRAP_MARKED_WORD) throw bad(`expected ${BOOTSTRAP_MARKED_WORD} after <n>`)
      return { type: 'BOOTSTRAP', count, marked: true }
    }
    case 'PASSIVE':
    case 'SIMULTANEOUS': {
      if (words.length !== 5 && words.length !== 6) {
        throw bad(`expected 3 or 4 arguments after ${command}, got ${words.length - 1}`)
      }
      if (words[1] !== 'READY') throw bad('expected READY after the node type')
      const port = parseDecimal(words[2], 1, 65_535)
      if (port === undefined) throw bad('port must be 1..65535')
      const maxInbound = parseDecimal(words[3], 0, MAX_INBOUND_LIMIT)
      if (maxInbound === undefined) throw bad(`max-inbound must be 0..${MAX_INBOUND_LIMIT}`)
      const nodeId = parseNodeId(words[4])
      if (nodeId === undefined) throw bad('node id must be 40 hex characters')
      const nodeType = command === 'PASSIVE' ? 'passive' : 'simultaneous'
      if (words.length === 5) return { type: 'READY', nodeType, port, maxInbound, nodeId }
      const clearToken = words[5]
      if (!isClearToken(clearToken)) throw bad(CLEAR_TOKEN_RULE)
      return { type: 'READY', nodeType, port, maxInbound, nodeId, clearToken }
    }
    case 'SOURCE': {
      arity(3)
      if (words[1] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const localPort = parseDecimal(words[2], 1, 65_535)
      if (localPort === undefined) throw bad('local port must be 1..65535')
      return { type: 'SOURCE', localPort }
    }
    case 'CANDIDATE': {
      if (words.length < 5) throw bad('expected <target-node-id> <own-node-id> TCP <port> [port ...]')
      const targetNodeId = parseNodeId(words[1])
      if (targetNodeId === undefined) throw bad('target node id must be 40 hex characters')
      const nodeId = parseNodeId(words[2])
      if (nodeId === undefined) throw bad('own node id must be 40 hex characters')
      if (words[3] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const ports = parsePortList(words.slice(4))
      if (ports === undefined) throw bad('ports must be 1..32 numbers 1..65535')
      return { type: 'CANDIDATE', targetNodeId, nodeId, ports }
    }
    case 'ACCEPT': {
      if (words.length < 4) throw bad('expected <punch-id> TCP <port> [port ...]')
      const punchId = words[1]
      if (!isToken(punchId)) throw bad('punch id must be 1..64 of [A-Za-z0-9_-]')
      if (words[2] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const ports = parsePortList(words.slice(3))
      if (ports === undefined) throw bad('ports must be 1..32 numbers 1..65535')
      return { type: 'ACCEPT', punchId, ports }
    }
    case 'REJECT': {
      if (words.length < 3) throw bad('expected <punch-id> <reason>')
      const punchId = words[1]
      if (!isToken(punchId)) throw bad('punch id must be 1..64 of [A-Za-z0-9_-]')
      const reason = words.slice(2).join(' ')
      if (!isText(reason, false)) throw bad('reason must be 1..256 printable ASCII characters')
      return { type: 'REJECT', punchId, reason }
    }
    case 'CLEAR': {
      if (words.length === 1) return { type: 'CLEAR' }
      if (words.length !== 3) throw bad('expected no arguments, or <node-id> <clear-token>')
      const nodeId = parseNodeId(words[1])
      if (nodeId === undefined) throw bad('node id must be 40 hex characters')
      const clearToken = words[2]
      if (!isClearToken(clearToken)) throw bad(CLEAR_TOKEN_RULE)
      return { type: 'CLEAR', nodeId, clearToken }
    }
    case 'CHECK': {
      arity(4)
      if (words[1] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const port = parseDecimal(words[2], 1, 65_535)
      if (port === undefined) throw bad('port must be 1..65535')
      const nonce = words[3]
      if (!isToken(nonce)) throw bad('nonce must be 1..64 of [A-Za-z0-9_-]')
      return { type: 'CHECK', port, nonce }
    }
    case 'INBOUND': {
      arity(3)
      if (words[1] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      if (words[2] === 'RST') return { type: 'INBOUND', policy: 'rst' }
      if (words[2] === 'DROP') return { type: 'INBOUND', policy: 'drop' }
      throw bad('policy must be RST or DROP')
    }
    case 'QUIT':
      arity(1)
      return { type: 'QUIT' }
    case 'PING':
    case 'PONG': {
      arity(2)
      const token = words[1]
      if (!isToken(token)) throw bad('token must be 1..64 of [A-Za-z0-9_-]')
      return { type: command, token }
    }
    default:
      throw RendezvousProtocolError.UNKNOWN_COMMAND(line)
  }
}
