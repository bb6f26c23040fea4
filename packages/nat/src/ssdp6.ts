// SSDP over IPv6 for the IGD's IPv6 firewall service: one M-SEARCH from our global IPv6 address to
// [ff02::c]:1900 on that address's link, the first valid answer wins. Over IPv6 the IGD talks to our
// IPv6 address, which is what secure-mode routers (miniupnpd) require of a pinhole's InternalClient.
import { createSocket, type Socket } from 'node:dgram'
import { networkInterfaces } from 'node:os'
import createDebug from 'debug'
import { deadline } from './abort.js'
import {
  PINHOLE_SERVICE,
  SSDP_ADDRESS6,
  SSDP_PORT,
  DEFAULT_DISCOVERY_TIMEOUT_MS as SSDP6_TIMEOUT_MS,
} from './constants.js'
import { NatError } from './errors.js'
import { buildMSearch, parseSsdpResponse, type SsdpResponse } from './ssdp.js'

const debug = createDebug('pyp2p:nat:ssdp')

export interface Ssdp6Options {
  /** our IPv6 address to search from (and to open pinholes for) */
  localAddress: string
  /** where M-SEARCH goes; default [ff02::c]:1900 on localAddress's interface (tests: a responder on ::1) */
  target?: { address: string; port: number }
  signal?: AbortSignal
  /** ms; default 2000 (DEFAULT_DISCOVERY_TIMEOUT_MS, as the IPv4 search) */
  timeout?: number
}

export interface Ssdp6Answer {
  response: SsdpResponse
  /** the responder's address (zone dropped) */
  from: string
}

/** The name of the interface holding `address`, for the multicast scope; undefined when none does. */
export function interfaceOf(address: string): string | undefined {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (list?.some((i) => i.family === 'IPv6' && i.address === address)) return name
  }
  return undefined
}

/** Resolves with the first IGD answering for WANIPv6FirewallControl:1; ERR_TIMEOUT when none does. */
export async function searchPinholeService(opts: Ssdp6Options): Promise<Ssdp6Answer> {
  const what = `SSDP search over IPv6 from ${opts.localAddress}`
  const { signal, fail } = deadline(what, opts.timeout ?? SSDP6_TIMEOUT_MS, opts.signal)
  if (signal.aborted) throw fail()
  const ifname = interfaceOf(opts.localAddress)
  const target = opts.target ?? {
    address: ifname ? `${SSDP_ADDRESS6}%${ifname}` : SSDP_ADDRESS6,
    port: SSDP_PORT,
  }
  const message = Buffer.from(buildMSearch(PINHOLE_SERVICE, 1, `[FF02::C]:${SSDP_PORT}`))
  const socket: Socket = createSocket({ type: 'udp6', ipv6Only: true })
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<Ssdp6Answer>((resolve, reject) => {
      onAbort = () => reject(fail(signal.reason))
      signal.addEventListener('abort', onAbort, { once: true })
      socket.on('error', (err) => reject(fail(err)))
      socket.on('message', (msg, rinfo) => {
        try {
          const response = parseSsdpResponse(msg, 6)
          if (response.st !== PINHOLE_SERVICE) return debug('ignoring an answer for %s', response.st)
          resolve({ response, from: rinfo.address.replace(/%.*$/, '') })
        } catch (err) {
          debug('ignoring datagram from %s: %s', rinfo.address, (err as Error).message)
        }
      })
      socket.bind({ address: opts.localAddress, port: 0 }, () => {
        if (opts.target === undefined && ifname !== undefined) {
          try {
            socket.setMulticastInterface(`::%${ifname}`)
          } catch (err) {
            debug('multicast interface %s: %s', ifname, (err as Error).message)
          }
        }
        socket.send(message, target.port, target.address, (err) => {
          if (err) reject(fail(err))
        })
      })
    })
  } catch (err) {
    if (err instanceof NatError && err.code === 'ERR_TIMEOUT') {
      throw NatError.NO_GATEWAY(
        opts.timeout ?? SSDP6_TIMEOUT_MS,
        `IPv6 from ${opts.localAddress} (no IGD with ${PINHOLE_SERVICE})`,
      )
    }
    throw err
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort)
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve())
      } catch {
        resolve()
      }
    })
  }
}
