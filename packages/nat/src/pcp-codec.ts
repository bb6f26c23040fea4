// PCP messages (RFC 6887): the requests we send (ANNOUNCE, MAP) and a strict parser for the
// responses. The parser checks everything a gateway could get wrong and throws ERR_INVALID_RESPONSE
// (or ERR_UNSUPPORTED_VERSION for a NAT-PMP-only gateway's reply) instead of guessing.
import {
  PCP_HEADER_BYTES,
  PCP_MAP_DATA_BYTES,
  PCP_MAX_MESSAGE_BYTES,
  PCP_NONCE_BYTES,
  PCP_OPCODE,
  PCP_PROTOCOL,
  PCP_RESULT,
  PCP_VERSION,
} from './constants.js'
import { NatError } from './errors.js'
import { addressToBytes, bytesToAddress } from './ip-bytes.js'
import type { Protocol } from './types.js'

export type PcpOpcode = (typeof PCP_OPCODE)[keyof typeof PCP_OPCODE]

/** The common request header (RFC 6887 section 7.1). */
function header(opcode: PcpOpcode, lifetime: number, clientAddress: string, dataBytes: number): Buffer {
  const out = Buffer.alloc(PCP_HEADER_BYTES + dataBytes)
  out.writeUInt8(PCP_VERSION, 0)
  out.writeUInt8(opcode & 0x7f, 1) // R bit 0: a request
  out.writeUInt32BE(lifetime, 4)
  addressToBytes(clientAddress).copy(out, 8)
  return out
}

/** ANNOUNCE (RFC 6887 section 14.1): lifetime 0, no data; the reply carries the server's epoch. */
export function encodePcpAnnounce(clientAddress: string): Buffer {
  return header(PCP_OPCODE.ANNOUNCE, 0, clientAddress, 0)
}

export interface PcpMapRequest {
  /** our address as the server sees it (the request's source address) */
  clientAddress: string
  /** seconds; 0 deletes the mapping (RFC 6887 section 15) */
  lifetime: number
  /** 12 random bytes, the same for every renewal and the delete of one mapping (section 11.1) */
  nonce: Uint8Array
  protocol: Protocol
  internalPort: number
  /** 0 = no preference */
  suggestedExternalPort: number
  /** '0.0.0.0' or '::' = no preference (of the mapping's family) */
  suggestedExternalAddress: string
}

/** MAP (RFC 6887 section 11.1). */
export function encodePcpMap(req: PcpMapRequest): Buffer {
  if (req.nonce.length !== PCP_NONCE_BYTES) throw NatError.INVALID_ARGUMENT('a PCP nonce is 12 bytes')
  if (!Number.isInteger(req.lifetime) || req.lifetime < 0 || req.lifetime > 0xffffffff)
    throw NatError.INVALID_ARGUMENT(`PCP lifetime ${req.lifetime} is not a 32-bit number of seconds`)
  for (const port of [req.internalPort, req.suggestedExternalPort]) {
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw NatError.INVALID_ARGUMENT(`PCP port ${port} is not 0..65535`)
  }
  const out = header(PCP_OPCODE.MAP, req.lifetime, req.clientAddress, PCP_MAP_DATA_BYTES)
  const d = PCP_HEADER_BYTES
  out.set(req.nonce, d)
  out.writeUInt8(PCP_PROTOCOL[req.protocol], d + 12)
  out.writeUInt16BE(req.internalPort, d + 16)
  out.writeUInt16BE(req.suggestedExternalPort, d + 18)
  addressToBytes(req.suggestedExternalAddress).copy(out, d + 20)
  return out
}

export interface PcpMapData {
  nonce: Buffer
  protocol: Protocol
  internalPort: number
  /** the assigned external port (on success) */
  externalPort: number
  /** the assigned external address: dotted quad for IPv4, IPv6 text otherwise */
  externalAddress: string
}

export interface PcpResponse {
  opcode: PcpOpcode
  /** 0 = success; the others are errors (RFC 6887 section 7.4), turned into NatErrors by the caller */
  resultCode: number
  /** seconds granted (success) or how long the error holds (failure) */
  lifetime: number
  /** the server's epoch, seconds (section 8.5) */
  epoch: number
  /** present for MAP responses */
  map?: PcpMapData
}

const bad = (why: string) => NatError.INVALID_RESPONSE('PCP reply', new Error(why))

/**
 * Parses a PCP response. Throws ERR_INVALID_RESPONSE on a wrong size (not 24..1100 bytes, not a
 * multiple of 4, MAP data cut short), a version other than 2, a request (R bit 0), an unknown opcode,
 * a result code above 13, an unknown MAP protocol or options that overrun the message; throws
 * ERR_UNSUPPORTED_VERSION when the reply is a NAT-PMP server's "unsupported version" (RFC 6887
 * section 9: the gateway speaks NAT-PMP only).
 */
export function parsePcpResponse(data: Uint8Array): PcpResponse {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  if (buf.length >= 4 && buf[0] === 0 && (buf[1] ?? 0) >= 128) {
    // NAT-PMP reply format: version 0, opcode 128 + op, 16-bit result code (RFC 6886 section 3.5).
    if (buf.readUInt16BE(2) === 1) throw NatError.UNSUPPORTED_VERSION('PCP', { natpmpCode: 1 })
    throw bad(`a NAT-PMP reply (result ${buf.readUInt16BE(2)}) to a PCP request`)
  }
  if (buf.length < PCP_HEADER_BYTES) throw bad(`${buf.length} bytes, shorter than the 24-byte header`)
  if (buf.length > PCP_MAX_MESSAGE_BYTES) throw bad(`${buf.length} bytes, longer than 1100`)
  if (buf.length % 4 !== 0) throw bad(`${buf.length} bytes, not a multiple of 4`)
  const version = buf.readUInt8(0)
  const rOpcode = buf.readUInt8(1)
  const resultCode = buf.readUInt8(3)
  if (version !== PCP_VERSION) {
    if (resultCode === PCP_RESULT.UNSUPP_VERSION) throw NatError.UNSUPPORTED_VERSION('PCP version 2')
    throw bad(`version ${version}`)
  }
  if ((rOpcode & 0x80) === 0) throw bad('the R bit is 0 (a request, not a response)')
  const opcode = rOpcode & 0x7f
  if (opcode !== PCP_OPCODE.ANNOUNCE && opcode !== PCP_OPCODE.MAP && opcode !== PCP_OPCODE.PEER)
    throw bad(`opcode ${opcode}`)
  if (resultCode > PCP_RESULT.EXCESSIVE_REMOTE_PEERS) throw bad(`result code ${resultCode}`)
  const out: PcpResponse = {
    opcode,
    resultCode,
    lifetime: buf.readUInt32BE(4),
    epoch: buf.readUInt32BE(8),
  }
  let optionsAt = PCP_HEADER_BYTES
  if (opcode === PCP_OPCODE.MAP) {
    if (buf.length < PCP_HEADER_BYTES + PCP_MAP_DATA_BYTES) throw bad('MAP data cut short')
    const d = PCP_HEADER_BYTES
    const proto = buf.readUInt8(d + 12)
    const protocol = proto === PCP_PROTOCOL.TCP ? 'TCP' : proto === PCP_PROTOCOL.UDP ? 'UDP' : undefined
    if (protocol === undefined) throw bad(`MAP protocol ${proto}`)
    out.map = {
      nonce: Buffer.from(buf.subarray(d, d + PCP_NONCE_BYTES)),
      protocol,
      internalPort: buf.readUInt16BE(d + 16),
      externalPort: buf.readUInt16BE(d + 18),
      externalAddress: bytesToAddress(buf.subarray(d + 20, d + 36)),
    }
    optionsAt += PCP_MAP_DATA_BYTES
  } else if (opcode === PCP_OPCODE.PEER) {
    throw bad('a PEER reply (we send no PEER requests)')
  }
  // Options (section 7.3): code, reserved, 16-bit length, data padded to 4 bytes. We send none and
  // act on none, but a reply whose options overrun it is malformed.
  for (let at = optionsAt; at < buf.length; ) {
    if (at + 4 > buf.length) throw bad('option header cut short')
    const len = buf.readUInt16BE(at + 2)
    at += 4 + Math.ceil(len / 4) * 4
    if (at > buf.length) throw bad('option data overruns the message')
  }
  return out
}
