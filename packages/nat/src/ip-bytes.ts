// 16-byte addresses as PCP carries them (RFC 6887 section 5): IPv6 as is, IPv4 as an IPv4-mapped
// IPv6 address (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2).
import { isIPv6 } from 'node:net'
import { formatIPv4, parseIPv4 } from './address.js'
import { NatError } from './errors.js'

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] as const

/** Parses IPv6 text (with `::`, an embedded dotted quad, a zone `%eth0` dropped) to 16 bytes. */
function parseIPv6(text: string): Buffer | undefined {
  const plain = text.replace(/%.*$/, '')
  if (!isIPv6(plain)) return undefined
  let head = plain
  const tail: number[] = []
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(plain)
  if (dotted?.[1] !== undefined) {
    const v4 = parseIPv4(dotted[1])
    if (v4 === undefined) return undefined
    tail.push(v4 >>> 16, v4 & 0xffff)
    head = `${plain.slice(0, dotted.index)}:`
    if (head.endsWith(':::')) head = head.slice(0, -1)
    else if (!head.endsWith('::')) head = head.slice(0, -1)
  }
  const [left = '', right] = head.split('::')
  const words = (part: string) => (part === '' ? [] : part.split(':').map((w) => Number.parseInt(w, 16)))
  const l = words(left)
  const r = right === undefined ? [] : words(right)
  const fill = 8 - tail.length - l.length - r.length
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined
  const all = [...l, ...new Array<number>(fill).fill(0), ...r, ...tail]
  const out = Buffer.alloc(16)
  for (const [i, w] of all.entries()) out.writeUInt16BE(w, i * 2)
  return out
}

/** 16 bytes for an IPv4 (mapped) or IPv6 address; throws ERR_INVALID_ARGUMENT for anything else. */
export function addressToBytes(address: string): Buffer {
  const v4 = parseIPv4(address)
  if (v4 !== undefined) {
    const out = Buffer.alloc(16)
    out.set(MAPPED_PREFIX)
    out.writeUInt32BE(v4, 12)
    return out
  }
  const v6 = parseIPv6(address)
  if (v6 === undefined) throw NatError.INVALID_ARGUMENT(`not an IP address: ${JSON.stringify(address)}`)
  return v6
}

/** True when the 16 bytes hold an IPv4-mapped address. */
export function isMappedIPv4(bytes: Uint8Array): boolean {
  return bytes.length === 16 && MAPPED_PREFIX.every((b, i) => bytes[i] === b)
}

/** Text of 16 address bytes: dotted quad for IPv4-mapped, RFC 5952 compressed text for IPv6. */
export function bytesToAddress(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw NatError.INVALID_ARGUMENT('an address is 16 bytes')
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, 16)
  if (isMappedIPv4(view)) return formatIPv4(view.readUInt32BE(12))
  const words = Array.from({ length: 8 }, (_, i) => view.readUInt16BE(i * 2))
  // RFC 5952 section 4.2: the longest run of two or more zero words becomes '::' (the first if tied).
  let best = { at: -1, len: 1 }
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > best.len) best = { at: i, len: j - i }
    i = j
  }
  const hex = words.map((w) => w.toString(16))
  if (best.at < 0) return hex.join(':')
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`
}

/** The unspecified address of a family, as PCP wants it in "no preference" fields (RFC 6887 11.1). */
export function unspecifiedFor(address: string): Buffer {
  return addressToBytes(parseIPv4(address) !== undefined ? '0.0.0.0' : '::')
}
