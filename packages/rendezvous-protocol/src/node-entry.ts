/**
 * One entry of a `NODES` reply: `<type>:<node-id>:<ip>:<port>`, with an IPv6 address in brackets
 * (`p:<id>:[::1]:8000`). pyp2p's form was `p:IP:PORT`; the node id is new in v1.
 */
import { NODE_TYPE_LETTERS, UNPROVEN_MARKER } from './constants.js'
import { RendezvousProtocolError } from './errors.js'
import { isIp, isNodeId, isPort, parseDecimal, parseNodeId } from './fields.js'
import type { NodeEntry, NodeType } from './messages.js'

const ENTRY_RE = /^([a-z]):([0-9a-fA-F]+):(\[[0-9A-Fa-f:.]+\]|[0-9.]+):([0-9]+)(?::([a-z]))?$/

function nodeTypeOf(letter: string): NodeType | undefined {
  if (letter === NODE_TYPE_LETTERS.passive) return 'passive'
  if (letter === NODE_TYPE_LETTERS.simultaneous) return 'simultaneous'
  return undefined
}

/** Formats one entry; throws `ERR_INVALID_MESSAGE` when a field is invalid. */
export function formatNodeEntry(entry: NodeEntry): string {
  const letter = NODE_TYPE_LETTERS[entry.nodeType]
  if (letter === undefined) throw RendezvousProtocolError.INVALID_MESSAGE('NODES', 'unknown node type')
  if (!isNodeId(entry.nodeId)) {
    throw RendezvousProtocolError.INVALID_MESSAGE('NODES', 'node id must be 40 lower-case hex characters')
  }
  if (!isIp(entry.ip)) throw RendezvousProtocolError.INVALID_MESSAGE('NODES', 'ip is not an IP address')
  if (!isPort(entry.port)) throw RendezvousProtocolError.INVALID_MESSAGE('NODES', 'port must be 1..65535')
  if (entry.unproven !== undefined && entry.unproven !== true) {
    throw RendezvousProtocolError.INVALID_MESSAGE('NODES', 'unproven must be true or absent')
  }
  const ip = entry.ip.includes(':') ? `[${entry.ip}]` : entry.ip
  const mark = entry.unproven === true ? `:${UNPROVEN_MARKER}` : ''
  return `${letter}:${entry.nodeId}:${ip}:${entry.port}${mark}`
}

/**
 * Parses one entry; throws `ERR_MALFORMED` (command `NODES`) when it is not valid. `line` is the whole
 * line, for the error message.
 */
export function parseNodeEntry(word: string, line: string = word): NodeEntry {
  const m = ENTRY_RE.exec(word)
  if (m === null)
    throw RendezvousProtocolError.MALFORMED('NODES', `entry is not <type>:<node-id>:<ip>:<port>`, line)
  const nodeType = nodeTypeOf(m[1] ?? '')
  if (nodeType === undefined)
    throw RendezvousProtocolError.MALFORMED('NODES', 'unknown node type letter', line)
  const nodeId = parseNodeId(m[2])
  if (nodeId === undefined)
    throw RendezvousProtocolError.MALFORMED('NODES', 'node id is not 40 hex characters', line)
  const rawIp = m[3] ?? ''
  const bracketed = rawIp.startsWith('[')
  const ip = bracketed ? rawIp.slice(1, -1) : rawIp
  if (!isIp(ip) || bracketed !== ip.includes(':')) {
    throw RendezvousProtocolError.MALFORMED('NODES', 'bad IP address (IPv6 must be in brackets)', line)
  }
  const port = parseDecimal(m[4], 1, 65_535)
  if (port === undefined) throw RendezvousProtocolError.MALFORMED('NODES', 'port must be 1..65535', line)
  if (m[5] === undefined) return { nodeType, nodeId, ip, port }
  if (m[5] !== UNPROVEN_MARKER) throw RendezvousProtocolError.MALFORMED('NODES', 'unknown entry marker', line)
  return { nodeType, nodeId, ip, port, unproven: true }
}
