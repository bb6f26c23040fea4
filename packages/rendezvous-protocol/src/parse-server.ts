/**
 * `parseServerMessage`: what a client calls on every line the server sends. Validates every field and
 * returns a typed {@link ServerMessage}, or throws a {@link RendezvousProtocolError} and nothing else.
 */
import { MAX_FIGHT_DELAY_MS, MAX_SERVER_LINE_LENGTH, PROTOCOL_NAME, PROTOCOL_TCP } from './constants.js'
import { RendezvousProtocolError } from './errors.js'
import {
  isErrorCode,
  isIp,
  isText,
  isToken,
  isVersion,
  parseDecimal,
  parseNodeId,
  parsePortList,
} from './fields.js'
import { readHelloWords } from './hello.js'
import type { NodeEntry, ServerMessage } from './messages.js'
import { parseNodeEntry } from './node-entry.js'
import type { ParseOptions } from './parse-client.js'
import { startParse } from './split.js'

const VERSION_RE = new RegExp(`^${PROTOCOL_NAME}/([0-9]{1,4})$`)
const PUNCH_PREFIX = 'punch='

/** The command words a server may send (a client can tell an unknown extension from a broken line). */
export const SERVER_COMMANDS: ReadonlySet<string> = new Set([
  'HELLO',
  'NODES',
  'OK',
  'REMOTE',
  'REACHABLE',
  'PREDICTION',
  'CHALLENGE',
  'FIGHT',
  'RECONNECT',
  'ERROR',
  'PING',
  'PONG',
])

export function parseServerMessage(line: string, options: ParseOptions = {}): ServerMessage {
  const { words, command, bad, arity } = startParse(line, options.maxLineLength ?? MAX_SERVER_LINE_LENGTH)
  switch (command) {
    case 'HELLO': {
      if (words.length < 4) throw bad(`expected ${PROTOCOL_NAME}/<version> <ip> <port>`)
      const v = VERSION_RE.exec(words[1] ?? '')
      const version = v === null ? undefined : Number(v[1])
      if (!isVersion(version)) throw bad(`expected ${PROTOCOL_NAME}/<version> with version 1..9999`)
      const ip = words[2]
      if (!isIp(ip)) throw bad('observed ip is not an IP address')
      const port = parseDecimal(words[3], 1, 65_535)
      if (port === undefined) throw bad('observed port must be 1..65535')
      return readHelloWords(words.slice(4), { type: 'HELLO', version, ip, port }, bad)
    }
    case 'NODES': {
      if (words.length < 2) throw bad('expected EMPTY or at least one entry')
      if (words[1] === 'EMPTY') {
        arity(2)
        return { type: 'NODES', nodes: [] }
      }
      const nodes: NodeEntry[] = []
      for (const w of words.slice(1)) nodes.push(parseNodeEntry(w, line))
      return { type: 'NODES', nodes }
    }
    case 'OK': {
      arity(2)
      const what = words[1]
      if (
        what === 'PASSIVE' ||
        what === 'SIMULTANEOUS' ||
        what === 'CLEAR' ||
        what === 'REJECT' ||
        what === 'INBOUND'
      ) {
        return { type: 'OK', what }
      }
      throw bad('expected PASSIVE, SIMULTANEOUS, CLEAR, REJECT or INBOUND')
    }
    case 'REMOTE': {
      arity(3)
      if (words[1] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const port = parseDecimal(words[2], 1, 65_535)
      if (port === undefined) throw bad('port must be 1..65535')
      return { type: 'REMOTE', port }
    }
    case 'REACHABLE': {
      if (words.length < 4) throw bad('expected TCP <port> YES, or TCP <port> NO <reason>')
      if (words[1] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const port = parseDecimal(words[2], 1, 65_535)
      if (port === undefined) throw bad('port must be 1..65535')
      if (words[3] === 'YES') {
        arity(4)
        return { type: 'REACHABLE', port, reachable: true }
      }
      if (words[3] !== 'NO') throw bad('expected YES or NO')
      const reason = words.slice(4).join(' ')
      if (!isText(reason, false)) throw bad('NO must be followed by a reason (1..256 printable ASCII)')
      return { type: 'REACHABLE', port, reachable: false, reason }
    }
    case 'PREDICTION': {
      arity(3)
      if (words[1] !== 'SET') throw bad('expected SET')
      const punchId = words[2]
      if (!isToken(punchId)) throw bad('punch id must be 1..64 of [A-Za-z0-9_-]')
      return { type: 'PREDICTION_SET', punchId }
    }
    case 'CHALLENGE': {
      if (words.length < 6) throw bad('expected <punch-id> <node-id> <ip> TCP <port> [port ...]')
      const punchId = words[1]
      if (!isToken(punchId)) throw bad('punch id must be 1..64 of [A-Za-z0-9_-]')
      const nodeId = parseNodeId(words[2])
      if (nodeId === undefined) throw bad('node id must be 40 hex characters')
      const ip = words[3]
      if (!isIp(ip)) throw bad('candidate ip is not an IP address')
      if (words[4] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const ports = parsePortList(words.slice(5))
      if (ports === undefined) throw bad('ports must be 1..32 numbers 1..65535')
      return { type: 'CHALLENGE', punchId, nodeId, ip, ports }
    }
    case 'FIGHT': {
      if (words.length < 6) throw bad('expected <punch-id> <ip> TCP <port> [port ...] <delay-ms>')
      const punchId = words[1]
      if (!isToken(punchId)) throw bad('punch id must be 1..64 of [A-Za-z0-9_-]')
      const ip = words[2]
      if (!isIp(ip)) throw bad('peer ip is not an IP address')
      if (words[3] !== PROTOCOL_TCP) throw bad('only TCP is supported')
      const ports = parsePortList(words.slice(4, -1))
      if (ports === undefined) throw bad('ports must be 1..32 numbers 1..65535')
      const delayMs = parseDecimal(words[words.length - 1], 0, MAX_FIGHT_DELAY_MS)
      if (delayMs === undefined) throw bad(`delay-ms must be an integer 0..${MAX_FIGHT_DELAY_MS}`)
      return { type: 'FIGHT', punchId, ip, ports, delayMs }
    }
    case 'RECONNECT':
      arity(1)
      return { type: 'RECONNECT' }
    case 'ERROR': {
      if (words.length < 2) throw bad('expected <CODE> [text]')
      const code = words[1]
      if (!isErrorCode(code)) throw bad('code must be ERR_ followed by [A-Z0-9_]')
      let rest = words.slice(2)
      let punchId: string | undefined
      if (rest[0]?.startsWith(PUNCH_PREFIX)) {
        punchId = rest[0].slice(PUNCH_PREFIX.length)
        if (!isToken(punchId)) throw bad('punch= must be followed by a punch id')
        rest = rest.slice(1)
      }
      const text = rest.join(' ')
      if (!isText(text, true)) throw bad('text must be at most 256 printable ASCII characters')
      return punchId === undefined ? { type: 'ERROR', code, text } : { type: 'ERROR', code, punchId, text }
    }
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
