// The server's half of PCP (RFC 6887) for tests: read a request, write a response. The library
// holds the client's half (encode requests, parse responses); the round-trip tests join the two.
import { addressToBytes, bytesToAddress } from '../../src/ip-bytes.js'

export interface PcpRequestSeen {
  version: number
  opcode: number
  lifetime: number
  clientAddress: string
  map?: {
    nonce: Buffer
    protocol: number
    internalPort: number
    suggestedExternalPort: number
    suggestedExternalAddress: string
  }
}

export function parsePcpRequest(buf: Buffer): PcpRequestSeen | undefined {
  if (buf.length < 24 || buf.length % 4 !== 0 || ((buf[1] ?? 0) & 0x80) !== 0) return undefined
  const out: PcpRequestSeen = {
    version: buf.readUInt8(0),
    opcode: buf.readUInt8(1) & 0x7f,
    lifetime: buf.readUInt32BE(4),
    clientAddress: bytesToAddress(buf.subarray(8, 24)),
  }
  if (out.opcode === 1) {
    if (buf.length < 60) return undefined
    out.map = {
      nonce: Buffer.from(buf.subarray(24, 36)),
      protocol: buf.readUInt8(36),
      internalPort: buf.readUInt16BE(40),
      suggestedExternalPort: buf.readUInt16BE(42),
      suggestedExternalAddress: bytesToAddress(buf.subarray(44, 60)),
    }
  }
  return out
}

export interface PcpResponseSpec {
  version?: number
  opcode: number
  resultCode: number
  lifetime: number
  epoch: number
  map?: {
    nonce: Uint8Array
    protocol: number
    internalPort: number
    externalPort: number
    externalAddress: string
  }
  /** raw option bytes appended after the opcode data */
  options?: Buffer
}

export function encodePcpResponse(r: PcpResponseSpec): Buffer {
  const data = r.map ? 36 : 0
  const out = Buffer.alloc(24 + data)
  out.writeUInt8(r.version ?? 2, 0)
  out.writeUInt8(0x80 | r.opcode, 1)
  out.writeUInt8(r.resultCode, 3)
  out.writeUInt32BE(r.lifetime, 4)
  out.writeUInt32BE(r.epoch, 8)
  if (r.map) {
    out.set(r.map.nonce, 24)
    out.writeUInt8(r.map.protocol, 36)
    out.writeUInt16BE(r.map.internalPort, 40)
    out.writeUInt16BE(r.map.externalPort, 42)
    addressToBytes(r.map.externalAddress).copy(out, 44)
  }
  return r.options ? Buffer.concat([out, r.options]) : out
}
