// PCP client requests (RFC 6887) over one connected UDP socket per request: the socket's own address
// is the "PCP client's IP address" the server checks (section 8.1), and only datagrams from the
// server's port 5351 reach it. Retransmits with doubling gaps until the caller's deadline.
import { randomBytes } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import createDebug from 'debug'
import { deadline } from './abort.js'
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  PCP_INITIAL_RETRY_MS,
  PCP_MAX_RETRY_MS,
  PCP_NONCE_BYTES,
  PCP_OPCODE,
  PCP_PORT,
  PCP_PROBE_LIFETIME_S,
  PCP_RESULT,
} from './constants.js'
import { NatError } from './errors.js'
import { bytesToAddress, unspecifiedFor } from './ip-bytes.js'
import { encodePcpAnnounce, encodePcpMap, type PcpResponse, parsePcpResponse } from './pcp-codec.js'
import { pcpResultError } from './pcp-result.js'
import type { Protocol, RequestOptions } from './types.js'

const debug = createDebug('pyp2p:nat:pcp')

export interface PcpRequestOptions extends RequestOptions {
  /** the server's port; default 5351 (tests run a server elsewhere) */
  port?: number
  /** our address to send from, so the server maps it (an IPv6 host's global address rather than the
   * link-local one the kernel would pick towards a link-local gateway); default: the kernel's choice */
  localAddress?: string
}

interface Exchange {
  response: PcpResponse
  /** our address facing the server (what went into the request) */
  localAddress: string
}

async function exchange(
  server: string,
  what: string,
  build: (localAddress: string) => Buffer,
  matches: (r: PcpResponse) => boolean,
  opts: PcpRequestOptions,
): Promise<Exchange> {
  const timeout = opts.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS
  const { signal, fail } = deadline(what, timeout, opts.signal)
  if (signal.aborted) throw fail()
  const socket = createSocket(isIPv6(server.replace(/%.*$/, '')) ? 'udp6' : 'udp4')
  let retry: NodeJS.Timeout | undefined
  let onAbort: (() => void) | undefined
  try {
    return await new Promise<Exchange>((resolve, reject) => {
      let localAddress = ''
      onAbort = () => reject(fail(signal.reason))
      signal.addEventListener('abort', onAbort, { once: true })
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ECONNREFUSED') {
          reject(NatError.GATEWAY(what, 'nothing listens on its PCP port 5351 (PCP is off)', { cause: err }))
        } else reject(fail(err))
      })
      socket.on('message', (msg) => {
        let response: PcpResponse
        try {
          response = parsePcpResponse(msg)
        } catch (err) {
          return reject(err)
        }
        if (!matches(response)) return debug('%s: ignoring a reply to another request', what)
        resolve({ response, localAddress })
      })
      const connect = () =>
        socket.connect(opts.port ?? PCP_PORT, server, () => {
          localAddress = socket.address().address
          let message: Buffer
          try {
            message = build(localAddress)
          } catch (err) {
            return reject(err)
          }
          let gap = PCP_INITIAL_RETRY_MS
          const send = () => {
            socket.send(message, (err) => {
              if (err) debug('%s: send: %s', what, err.message)
            })
            retry = setTimeout(send, gap)
            gap = Math.min(gap * 2, PCP_MAX_RETRY_MS)
          }
          send()
        })
      if (opts.localAddress === undefined) connect()
      else socket.bind({ address: opts.localAddress, port: 0 }, connect)
    })
  } finally {
    if (retry !== undefined) clearTimeout(retry)
    if (onAbort) signal.removeEventListener('abort', onAbort)
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve())
      } catch {
        resolve() // already closed
      }
    })
  }
}

export interface PcpAnnounceResult {
  epoch: number
  localAddress: string
}

/** ANNOUNCE: does the gateway speak PCP, and its epoch. ERR_UNSUPPORTED_VERSION: NAT-PMP only. */
export async function pcpAnnounce(server: string, opts: PcpRequestOptions = {}): Promise<PcpAnnounceResult> {
  const what = `PCP ANNOUNCE to ${server}`
  const { response, localAddress } = await exchange(
    server,
    what,
    encodePcpAnnounce,
    (r) => r.opcode === PCP_OPCODE.ANNOUNCE,
    opts,
  )
  if (response.resultCode !== PCP_RESULT.SUCCESS) throw pcpResultError(response.resultCode, what)
  return { epoch: response.epoch, localAddress }
}

export const newPcpNonce = (): Buffer => randomBytes(PCP_NONCE_BYTES)

export interface PcpMapArgs {
  protocol: Protocol
  internalPort: number
  /** 0 = no preference */
  externalPort: number
  /** seconds; 0 deletes */
  lifetime: number
  /** the mapping's nonce: the same for its renewals and its delete */
  nonce: Uint8Array
}

export interface PcpGrant {
  internalAddress: string
  internalPort: number
  externalAddress: string
  externalPort: number
  /** granted seconds (0 after a delete) */
  lifetime: number
  epoch: number
}

/** MAP: creates, renews (same nonce) or, with lifetime 0, deletes a mapping (RFC 6887 sections 11, 15). */
export async function pcpMap(server: string, a: PcpMapArgs, opts: PcpRequestOptions = {}): Promise<PcpGrant> {
  const what = `PCP ${a.lifetime === 0 ? 'delete' : 'MAP'} of ${a.protocol} ${a.internalPort} on ${server}`
  const nonce = Buffer.from(a.nonce)
  const { response, localAddress } = await exchange(
    server,
    what,
    (clientAddress) =>
      encodePcpMap({
        clientAddress,
        lifetime: a.lifetime,
        nonce,
        protocol: a.protocol,
        internalPort: a.internalPort,
        suggestedExternalPort: a.externalPort,
        suggestedExternalAddress: bytesToAddress(unspecifiedFor(clientAddress)),
      }),
    // Section 11.4: a reply belongs to our request when nonce, protocol and internal port match.
    (r) =>
      r.map?.nonce.equals(nonce) === true &&
      r.map.protocol === a.protocol &&
      r.map.internalPort === a.internalPort,
    opts,
  )
  if (response.resultCode !== PCP_RESULT.SUCCESS) throw pcpResultError(response.resultCode, what)
  const map = response.map as NonNullable<PcpResponse['map']>
  if (a.lifetime > 0 && (map.externalPort === 0 || response.lifetime === 0)) {
    throw NatError.INVALID_RESPONSE(
      'PCP MAP reply',
      new Error('success without an external port or lifetime'),
    )
  }
  return {
    internalAddress: localAddress,
    internalPort: a.internalPort,
    externalAddress: map.externalAddress,
    externalPort: map.externalPort,
    lifetime: response.lifetime,
    epoch: response.epoch,
  }
}

/**
 * The external address of a PCP-only gateway. PCP has no request for it (RFC 6887), so this maps a
 * UDP port of a socket we hold open meanwhile (so the port is ours), reads the address from the
 * reply and deletes the mapping at once.
 */
export async function pcpExternalAddress(
  server: string,
  opts: PcpRequestOptions = {},
): Promise<{ address: string | null; epoch: number }> {
  const socket = createSocket(isIPv6(server.replace(/%.*$/, '')) ? 'udp6' : 'udp4')
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.bind(0, () => resolve())
    })
    const args = { protocol: 'UDP' as const, internalPort: socket.address().port, nonce: newPcpNonce() }
    const grant = await pcpMap(server, { ...args, externalPort: 0, lifetime: PCP_PROBE_LIFETIME_S }, opts)
    await pcpMap(server, { ...args, externalPort: 0, lifetime: 0 }, opts).catch((err: unknown) =>
      debug('could not delete the address probe mapping: %s', (err as Error).message),
    )
    const none = grant.externalAddress === '0.0.0.0' || grant.externalAddress === '::'
    return { address: none ? null : grant.externalAddress, epoch: grant.epoch }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()))
  }
}
