/**
 * What goes into Redis, and the strict parsers for what comes out: another program (or an older
 * version) may have written anything there, so a value that does not parse is skipped and counted by
 * the caller, never trusted. Entries are one line: `1|<node-id>|p|s|<ip>|<port>|<max-inbound>|
 * <instance>|<unproven 0/1>|<token-hash or ->|<ip-key>` (the Lua scripts read fields 3, 4, 7–10).
 */
import { isIP } from 'node:net'
import type { StoredMessage } from '@pyp2p/dht-msg/server'
import type { PeerMessage, SharedNode } from './cluster-store.js'

const NODE_ID = /^[0-9a-f]{40}$/
const INSTANCE = /^[0-9a-f]{8,32}$/
const TOKEN_HASH = /^[0-9a-f]{64}$/
const PUNCH_ID = /^[0-9a-f]{1,64}$/
/** A line for a client: never a line break (it would inject a second line). */
const LINE = /^[^\r\n]{1,16384}$/

export function formatEntry(n: SharedNode): string {
  const type = n.nodeType === 'passive' ? 'p' : 's'
  const token = n.tokenHash === '' ? '-' : n.tokenHash
  return `1|${n.nodeId}|${type}|${n.ip}|${n.port}|${n.maxInbound}|${n.instance}|${n.unproven ? 1 : 0}|${token}|${n.ipKey}`
}

const port = (s: string | undefined): number | undefined => {
  if (s === undefined || !/^[0-9]{1,5}$/.test(s)) return undefined
  const n = Number(s)
  return n >= 1 && n <= 65_535 ? n : undefined
}

/** The entry in `raw`, or undefined when it is not one of ours. */
export function parseEntry(raw: unknown): SharedNode | undefined {
  if (typeof raw !== 'string' || raw.length > 512) return undefined
  const f = raw.split('|')
  if (f.length !== 10 || f[0] !== '1') return undefined
  const [, nodeId, type, ip, p, max, instance, u, token, ipKey] = f as [string, ...string[]]
  const nodePort = port(p)
  if (nodeId === undefined || !NODE_ID.test(nodeId) || (type !== 'p' && type !== 's')) return undefined
  if (ip === undefined || isIP(ip) === 0 || nodePort === undefined) return undefined
  if (max === undefined || !/^[0-9]{1,9}$/.test(max)) return undefined
  if (instance === undefined || !INSTANCE.test(instance) || (u !== '0' && u !== '1')) return undefined
  if (token === undefined || (token !== '-' && !TOKEN_HASH.test(token))) return undefined
  if (ipKey === undefined || ipKey === '' || ipKey.length > 64) return undefined
  return {
    nodeId,
    nodeType: type === 'p' ? 'passive' : 'simultaneous',
    ip,
    port: nodePort,
    maxInbound: Number(max),
    instance,
    unproven: u === '1',
    tokenHash: token === '-' ? '' : token,
    ipKey,
  }
}

export function isInstanceId(s: unknown): s is string {
  return typeof s === 'string' && INSTANCE.test(s)
}

export function formatPeerMessage(msg: PeerMessage): string {
  return JSON.stringify(msg)
}

type Fields = Record<string, unknown>
const str = (o: Fields, k: string, re?: RegExp): boolean =>
  typeof o[k] === 'string' &&
  (o[k] as string).length <= 16_384 &&
  (re === undefined || re.test(o[k] as string))
const num = (o: Fields, k: string): boolean => typeof o[k] === 'number' && Number.isFinite(o[k])
const ports = (v: unknown): boolean =>
  Array.isArray(v) &&
  v.length >= 1 &&
  v.length <= 64 &&
  v.every((p) => Number.isInteger(p) && p >= 1 && p <= 65_535)

function storedMessage(v: unknown): v is StoredMessage {
  if (typeof v !== 'object' || v === null) return false
  const m = v as Fields
  return (
    str(m, 'to', NODE_ID) &&
    str(m, 'from', NODE_ID) &&
    str(m, 'id') &&
    str(m, 'payload') &&
    str(m, 'fromAddress') &&
    num(m, 'expiresAt')
  )
}

/** The peer message in `raw`, or undefined when it does not parse. */
export function parsePeerMessage(raw: string): PeerMessage | undefined {
  let v: unknown
  try {
    v = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Fields
  switch (o.op) {
    case 'candidate':
      return isInstanceId(o.from) &&
        num(o, 'req') &&
        str(o, 'ip') &&
        isIP(o.ip as string) !== 0 &&
        str(o, 'target', NODE_ID) &&
        str(o, 'node', NODE_ID) &&
        ports(o.ports) &&
        num(o, 'rtt') &&
        typeof o.measuring === 'boolean' &&
        typeof o.proven === 'boolean' &&
        (o.inbound === undefined || o.inbound === 'rst' || o.inbound === 'drop')
        ? (o as unknown as PeerMessage)
        : undefined
    case 'reply':
      return num(o, 'req') && str(o, 'line', LINE) ? (o as unknown as PeerMessage) : undefined
    case 'line':
      return str(o, 'punch', PUNCH_ID) && str(o, 'line', LINE) ? (o as unknown as PeerMessage) : undefined
    case 'rtt':
      return str(o, 'punch', PUNCH_ID) && num(o, 'rtt') ? (o as unknown as PeerMessage) : undefined
    case 'gone':
      return str(o, 'punch', PUNCH_ID) ? (o as unknown as PeerMessage) : undefined
    case 'drop':
      return str(o, 'node', NODE_ID) && typeof o.replaced === 'boolean'
        ? (o as unknown as PeerMessage)
        : undefined
    case 'msg':
      return storedMessage(o.m) ? (o as unknown as PeerMessage) : undefined
    case 'session':
      return str(o, 'node', NODE_ID) && isInstanceId(o.from) ? (o as unknown as PeerMessage) : undefined
    default:
      return undefined
  }
}
