/**
 * The UNL binary format and its base64url text.
 *
 * ```
 * offset  size  field
 * 0       1     format version (3)
 * 1       20    node id
 * 21      1     node type        0 passive, 1 active, 2 simultaneous
 * 22      1     NAT type         0 unknown, 1 preserving, 2 delta, 3 reuse, 4 random
 * 23      1     forwarding type  0 none, 1 manual, 2 UPnP, 3 NAT-PMP
 * 24      2     listening port, big-endian (0 = does not listen)
 * 26      1     WAN address length (0, 4 or 16), then the address bytes
 * .       1     LAN address length (0, 4 or 16), then the address bytes
 * .       ...   extensions: type (1), length (1), value; types < 0x80 are skipped when unknown,
 *               types >= 0x80 are critical and refuse the UNL when unknown
 * end-4   4     checksum: SHA-256 of everything before it, first 4 bytes
 * ```
 * The text is base64url without padding, and only the canonical text of each binary is accepted, so a
 * UNL has exactly one text and one binary form.
 */
import { createHash } from 'node:crypto'
import { addressToBytes, bytesToAddress, isV4Mapped } from './address.js'
import {
  NODE_ID_BYTES,
  TLV_CRITICAL_BIT,
  TLV_EXTERNAL_PORT,
  UNL_CHECKSUM_BYTES,
  UNL_FORMAT_VERSION,
  UNL_MAX_BYTES,
  UNL_MAX_TEXT_LENGTH,
  UNL_MIN_BYTES,
  UNL_PYTHON_FORMAT_VERSION,
} from './constants.js'
import { UnlError } from './errors.js'
import { FORWARDING_TYPES, NAT_TYPES, NODE_TYPES, type UnlExtension, type UnlFields } from './types.js'

const NODE_ID_RE = /^[0-9a-f]{40}$/
const BASE64URL_RE = /^[A-Za-z0-9_-]*$/

/** The binary form of a UNL. Throws ERR_INVALID_UNL naming the field when a value can't be encoded. */
export function encodeUnlBytes(fields: UnlFields): Uint8Array {
  const f = normalizeFields(fields)
  const wan = f.wanAddress === '' ? new Uint8Array(0) : addressToBytes(f.wanAddress)!
  const lan = f.lanAddress === '' ? new Uint8Array(0) : addressToBytes(f.lanAddress)!
  const tlvs: UnlExtension[] = []
  if (f.externalPort !== undefined) {
    tlvs.push({ type: TLV_EXTERNAL_PORT, value: Uint8Array.of(f.externalPort >> 8, f.externalPort & 0xff) })
  }
  tlvs.push(...(f.extensions ?? []))
  tlvs.sort((a, b) => a.type - b.type)
  const parts: number[] = [UNL_FORMAT_VERSION, ...Buffer.from(f.nodeId, 'hex')]
  parts.push(NODE_TYPES.indexOf(f.nodeType), NAT_TYPES.indexOf(f.natType))
  parts.push(FORWARDING_TYPES.indexOf(f.forwarding), f.port >> 8, f.port & 0xff)
  parts.push(wan.length, ...wan, lan.length, ...lan)
  for (const t of tlvs) parts.push(t.type, t.value.length, ...t.value)
  const body = Uint8Array.from(parts)
  if (body.length + UNL_CHECKSUM_BYTES > UNL_MAX_BYTES) {
    throw UnlError.INVALID_UNL('extensions', `the UNL would be longer than ${UNL_MAX_BYTES} bytes`)
  }
  const out = new Uint8Array(body.length + UNL_CHECKSUM_BYTES)
  out.set(body)
  out.set(checksum(body), body.length)
  return out
}

/** The text form (base64url, no padding). */
export function encodeUnl(fields: UnlFields): string {
  return Buffer.from(encodeUnlBytes(fields)).toString('base64url')
}

/** Parse a UNL's text; throws UnlError ERR_INVALID_UNL saying which part was wrong. */
export function parseUnlText(text: unknown): { fields: UnlFields; bytes: Uint8Array } {
  if (typeof text !== 'string') throw UnlError.INVALID_UNL('text', `expected a string, got ${typeof text}`)
  if (text.length > UNL_MAX_TEXT_LENGTH) {
    throw UnlError.INVALID_UNL('text', `longer than ${UNL_MAX_TEXT_LENGTH} characters`)
  }
  if (!BASE64URL_RE.test(text)) {
    throw UnlError.INVALID_UNL('text', 'not base64url (only A-Z a-z 0-9 - _ without padding)')
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'))
  if (Buffer.from(bytes).toString('base64url') !== text) {
    throw UnlError.INVALID_UNL('text', 'not the canonical base64url text of its bytes (truncated?)')
  }
  return { fields: decodeUnlBytes(bytes), bytes }
}

/** Parse a UNL's binary form; throws UnlError ERR_INVALID_UNL saying which part was wrong. */
export function decodeUnlBytes(bytes: Uint8Array): UnlFields {
  if (bytes.length === 0) throw UnlError.INVALID_UNL('text', 'empty')
  const version = bytes[0]!
  if (version === UNL_PYTHON_FORMAT_VERSION) {
    throw UnlError.INVALID_UNL('version', 'version 2 is the Python original format, which is not supported')
  }
  if (version !== UNL_FORMAT_VERSION) {
    throw UnlError.INVALID_UNL(
      'version',
      `unsupported version ${version} (this reader knows ${UNL_FORMAT_VERSION})`,
    )
  }
  if (bytes.length < UNL_MIN_BYTES) {
    throw UnlError.INVALID_UNL(
      'length',
      `${bytes.length} bytes, at least ${UNL_MIN_BYTES} needed (truncated)`,
    )
  }
  if (bytes.length > UNL_MAX_BYTES) throw UnlError.INVALID_UNL('length', `over ${UNL_MAX_BYTES} bytes`)
  const body = bytes.subarray(0, bytes.length - UNL_CHECKSUM_BYTES)
  const sum = bytes.subarray(bytes.length - UNL_CHECKSUM_BYTES)
  if (!equalBytes(checksum(body), sum)) {
    throw UnlError.INVALID_UNL('checksum', 'does not match the contents (truncated or altered)')
  }
  const r = new Reader(body)
  r.u8('version')
  const nodeId = Buffer.from(r.take(NODE_ID_BYTES, 'nodeId')).toString('hex')
  const nodeType = lookup(NODE_TYPES, r.u8('nodeType'), 'nodeType')
  const natType = lookup(NAT_TYPES, r.u8('natType'), 'natType')
  const forwarding = lookup(FORWARDING_TYPES, r.u8('forwarding'), 'forwarding')
  const port = (r.u8('port') << 8) | r.u8('port')
  const wanAddress = readAddress(r, 'wanAddress')
  const lanAddress = readAddress(r, 'lanAddress')
  const fields: UnlFields = { nodeId, nodeType, natType, forwarding, port, wanAddress, lanAddress }
  const extensions: UnlExtension[] = []
  let lastType = -1
  while (!r.done()) {
    const type = r.u8('extensions')
    const value = r.take(r.u8('extensions'), `extension 0x${hex2(type)}`)
    if (type <= lastType) {
      throw UnlError.INVALID_UNL('extensions', `extension 0x${hex2(type)} repeated or out of order`)
    }
    lastType = type
    if (type === TLV_EXTERNAL_PORT) {
      if (value.length !== 2) throw UnlError.INVALID_UNL('externalPort', `length ${value.length}, expected 2`)
      fields.externalPort = (value[0]! << 8) | value[1]!
      if (fields.externalPort === port) {
        throw UnlError.INVALID_UNL('externalPort', 'equal to the listening port (must be left out)')
      }
    } else if (type & TLV_CRITICAL_BIT) {
      throw UnlError.INVALID_UNL('extensions', `unknown critical extension 0x${hex2(type)} (a newer format)`)
    } else {
      extensions.push({ type, value: value.slice() })
    }
  }
  if (extensions.length > 0) fields.extensions = extensions
  return normalizeFields(fields)
}

/**
 * Check every field, returning canonical values (lowercase id, RFC 5952 addresses, no extension
 * equal to a default). Throws ERR_INVALID_UNL naming the field.
 */
export function normalizeFields(f: UnlFields): UnlFields {
  if (typeof f !== 'object' || f === null) throw UnlError.INVALID_UNL('fields', 'expected an object')
  const nodeId = typeof f.nodeId === 'string' ? f.nodeId.toLowerCase() : ''
  if (!NODE_ID_RE.test(nodeId)) throw UnlError.INVALID_UNL('nodeId', 'expected 40 hex characters (20 bytes)')
  if (!NODE_TYPES.includes(f.nodeType))
    throw UnlError.INVALID_UNL('nodeType', `unknown ${String(f.nodeType)}`)
  if (!NAT_TYPES.includes(f.natType)) throw UnlError.INVALID_UNL('natType', `unknown ${String(f.natType)}`)
  if (!FORWARDING_TYPES.includes(f.forwarding)) {
    throw UnlError.INVALID_UNL('forwarding', `unknown ${String(f.forwarding)}`)
  }
  if (!isPort(f.port, true)) throw UnlError.INVALID_UNL('port', `${String(f.port)} is not 0-65535`)
  if (f.nodeType === 'passive' && f.port === 0) {
    throw UnlError.INVALID_UNL('port', 'a passive node must have a listening port')
  }
  const wanAddress = checkAddress(f.wanAddress, 'wanAddress')
  const lanAddress = checkAddress(f.lanAddress, 'lanAddress')
  const { nodeType, natType, forwarding, port } = f
  const out: UnlFields = { nodeId, nodeType, natType, forwarding, port, wanAddress, lanAddress }
  if (f.externalPort !== undefined) {
    if (!isPort(f.externalPort, false)) {
      throw UnlError.INVALID_UNL('externalPort', `${String(f.externalPort)} is not 1-65535`)
    }
    if (f.externalPort !== f.port) out.externalPort = f.externalPort
  }
  if (f.extensions !== undefined && f.extensions.length > 0) {
    const seen = new Set<number>()
    for (const e of f.extensions) {
      const ok = Number.isInteger(e.type) && e.type > TLV_EXTERNAL_PORT && e.type < TLV_CRITICAL_BIT
      if (!ok || seen.has(e.type)) {
        throw UnlError.INVALID_UNL(
          'extensions',
          `type ${String(e.type)} is reserved, known, critical or repeated`,
        )
      }
      if (!(e.value instanceof Uint8Array) || e.value.length > 255) {
        throw UnlError.INVALID_UNL('extensions', `value of 0x${hex2(e.type)} must be at most 255 bytes`)
      }
      seen.add(e.type)
    }
    out.extensions = [...f.extensions]
      .sort((a, b) => a.type - b.type)
      .map((e) => ({ type: e.type, value: e.value.slice() }))
  }
  return out
}

function checkAddress(text: unknown, field: string): string {
  if (text === '') return ''
  if (typeof text !== 'string') throw UnlError.INVALID_UNL(field, 'expected a string')
  const bytes = addressToBytes(text)
  if (bytes === undefined) throw UnlError.INVALID_UNL(field, `${JSON.stringify(text)} is not an IP address`)
  return bytesToAddress(bytes)!
}

function readAddress(r: Reader, field: string): string {
  const len = r.u8(field)
  if (len === 0) return ''
  if (len !== 4 && len !== 16) throw UnlError.INVALID_UNL(field, `length ${len}, expected 0, 4 or 16`)
  const bytes = r.take(len, field)
  if (isV4Mapped(bytes)) throw UnlError.INVALID_UNL(field, 'IPv4-mapped IPv6 must be written as IPv4')
  return bytesToAddress(bytes)!
}

function lookup<T>(table: readonly T[], code: number, field: string): T {
  const v = table[code]
  if (v === undefined) throw UnlError.INVALID_UNL(field, `unknown code ${code}`)
  return v
}

function isPort(p: unknown, zeroOk: boolean): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= (zeroOk ? 0 : 1) && p <= 65535
}

function checksum(body: Uint8Array): Uint8Array {
  return createHash('sha256').update(body).digest().subarray(0, UNL_CHECKSUM_BYTES)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0')
}

class Reader {
  private pos = 0
  constructor(private readonly buf: Uint8Array) {}
  done(): boolean {
    return this.pos >= this.buf.length
  }
  u8(field: string): number {
    return this.take(1, field)[0]!
  }
  take(n: number, field: string): Uint8Array {
    if (this.pos + n > this.buf.length) throw UnlError.INVALID_UNL(field, 'ends early (truncated)')
    const out = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return out
  }
}
