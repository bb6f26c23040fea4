// SSDP search (UPnP Device Architecture 1.1 section 1.3) on every IPv4 interface: one UDP socket
// per interface address, so each answer tells which of our addresses faces that gateway.
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import createDebug from 'debug'
import { type Ipv4Interface, isIPv4 } from './address.js'
import { MAX_SSDP_BYTES, SSDP_ADDRESS, SSDP_MX, SSDP_PORT } from './constants.js'
import { NatError } from './errors.js'

const debug = createDebug('pyp2p:nat:ssdp')

/** The M-SEARCH request for search target `st` (UDA 1.1 section 1.3.2). */
export function buildMSearch(st: string, mx = SSDP_MX, host = `${SSDP_ADDRESS}:${SSDP_PORT}`): string {
  if (/[\r\n]/.test(st) || /[\r\n]/.test(host)) throw NatError.INVALID_ARGUMENT('SSDP target contains CR/LF')
  return `M-SEARCH * HTTP/1.1\r\nHOST: ${host}\r\nMAN: "ssdp:discover"\r\nMX: ${mx}\r\nST: ${st}\r\n\r\n`
}

export interface SsdpResponse {
  st: string
  location: URL
  usn: string
  server: string
  headers: Record<string, string>
}

/**
 * Parses a search response: `HTTP/1.1 200 OK` and header lines. ST and an http:// LOCATION with an
 * IPv4 host (an IPv6 literal with `family` 6: a search over IPv6) are required; throws
 * `ERR_INVALID_RESPONSE` otherwise.
 */
export function parseSsdpResponse(data: Buffer | string, family: 4 | 6 = 4): SsdpResponse {
  const text = typeof data === 'string' ? data : data.toString('latin1')
  if (text.length > MAX_SSDP_BYTES) throw NatError.INVALID_RESPONSE('SSDP reply', new Error('too large'))
  const lines = text.split(/\r?\n/)
  if (!/^HTTP\/1\.[01] 200(?: |$)/i.test(lines[0] ?? '')) {
    throw NatError.INVALID_RESPONSE('SSDP reply', new Error(`status line ${JSON.stringify(lines[0])}`))
  }
  const headers: Record<string, string> = Object.create(null)
  for (const line of lines.slice(1)) {
    if (line === '') break
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const key = line.slice(0, colon).trim().toLowerCase()
    if (!/^[a-z0-9.-]+$/.test(key)) continue
    headers[key] = line.slice(colon + 1).trim()
  }
  const st = headers.st
  if (st === undefined || st === '') throw NatError.INVALID_RESPONSE('SSDP reply', new Error('no ST header'))
  let location: URL
  try {
    location = new URL(headers.location ?? '')
  } catch (cause) {
    throw NatError.INVALID_RESPONSE('SSDP reply', cause)
  }
  const host = family === 6 ? location.hostname.replace(/^\[(.*)\]$/, '$1') : location.hostname
  if (location.protocol !== 'http:' || !(family === 6 ? isIPv6(host) : isIPv4(host))) {
    const want = family === 6 ? 'http://[<IPv6>]' : 'http://<IPv4>'
    throw NatError.INVALID_RESPONSE('SSDP reply', new Error(`LOCATION ${location.href} is not ${want}`))
  }
  return { st, location, usn: headers.usn ?? '', server: headers.server ?? '', headers }
}

export interface SsdpAnswer {
  response: SsdpResponse
  /** the responder's address */
  from: string
  /** our interface address the answer came in on */
  localAddress: string
}

export interface SsdpSearchOptions {
  interfaces: readonly Ipv4Interface[]
  searchTargets: readonly string[]
  /** where to send M-SEARCH; default the SSDP multicast group. Tests use a loopback responder. */
  target?: { address: string; port: number }
  signal: AbortSignal
  /** sent again once after this many ms to cover a lost datagram (UDA suggests repeating) */
  repeatAfterMs?: number
  onAnswer(answer: SsdpAnswer): void
  /** makes the UDP sockets; default dgram.createSocket (tests count and watch them) */
  createSocket?: (type: 'udp4') => Socket
}

/**
 * Sends M-SEARCH for each target from each interface and reports answers until `signal` aborts.
 * Resolves when it does; every socket is closed on every path.
 */
export async function ssdpSearch(opts: SsdpSearchOptions): Promise<void> {
  const target = opts.target ?? { address: SSDP_ADDRESS, port: SSDP_PORT }
  const sockets: Socket[] = []
  const messages = opts.searchTargets.map((st) => Buffer.from(buildMSearch(st)))
  let repeat: NodeJS.Timeout | undefined
  try {
    if (opts.signal.aborted) return
    await Promise.all(
      opts.interfaces.map(
        (iface) =>
          new Promise<void>((resolve) => {
            const socket = (opts.createSocket ?? createSocket)('udp4')
            sockets.push(socket)
            socket.on('error', (err) => {
              debug('socket on %s: %s', iface.address, err.message)
              resolve()
            })
            socket.on('message', (msg, rinfo) => {
              try {
                const response = parseSsdpResponse(msg)
                opts.onAnswer({ response, from: rinfo.address, localAddress: iface.address })
              } catch (err) {
                debug('ignoring datagram from %s: %s', rinfo.address, (err as Error).message)
              }
            })
            socket.bind(0, iface.address, () => {
              if (target.address === SSDP_ADDRESS) {
                try {
                  socket.setMulticastInterface(iface.address)
                  socket.setMulticastTTL(2)
                } catch (err) {
                  debug('multicast setup on %s: %s', iface.address, (err as Error).message)
                }
              }
              resolve()
            })
          }),
      ),
    )
    const sendAll = () => {
      for (const socket of sockets) {
        for (const msg of messages) {
          socket.send(msg, target.port, target.address, (err) => {
            if (err) debug('send: %s', err.message)
          })
        }
      }
    }
    if (opts.signal.aborted) return
    sendAll()
    if (opts.repeatAfterMs !== undefined) {
      repeat = setTimeout(sendAll, opts.repeatAfterMs)
      repeat.unref()
    }
    await new Promise<void>((resolve) => {
      if (opts.signal.aborted) resolve()
      else opts.signal.addEventListener('abort', () => resolve(), { once: true })
    })
  } finally {
    if (repeat !== undefined) clearTimeout(repeat)
    // Resolve only once every socket is really closed (close is asynchronous).
    await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => resolve())
            } catch {
              resolve() // already closed after an error
            }
          }),
      ),
    )
  }
}
