// IGD v2 IPv6 pinholes (UPnP WANIPv6FirewallControl:1): AddPinhole, UpdatePinhole, DeletePinhole,
// GetOutboundPinholeTimeout and GetFirewallStatus against one router, over HTTP to its IPv6 address
// (found by SSDP over IPv6, or given), through the same bounded, gateway-only transport as UPnP v4.
import createDebug from 'debug'
import { deadline } from './abort.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, PINHOLE_MAX_LEASE_S, PINHOLE_SERVICE } from './constants.js'
import { NatError } from './errors.js'
import { createHttpTransport, type NatUpnpTransport } from './http-transport.js'
import {
  parseAddPinhole,
  parseFirewallStatus,
  parseOutboundPinholeTimeout,
  pinholeControlUrl,
  pinholeEnvelope,
  protocolNumber,
} from './pinhole-soap.js'
import { parseUpnpFault } from './soap.js'
import type { Protocol, RequestOptions } from './types.js'

const debug = createDebug('pyp2p:nat:upnp')

export interface PinholeArgs {
  /** our IPv6 address to open (secure-mode routers accept only the address asking) */
  internalClient: string
  internalPort: number
  protocol: Protocol
  /** seconds, 1..86400 (clamped) */
  lease: number
  /** '' (default): any remote host */
  remoteHost?: string
  /** 0 (default): any remote port */
  remotePort?: number
}

/** Clamps a lease into A_ARG_TYPE_LeaseTime's range (1..86400 s). */
export const pinholeLease = (seconds: number) =>
  Math.max(1, Math.min(PINHOLE_MAX_LEASE_S, Math.floor(seconds)))

export class PinholeClient {
  readonly location: URL
  readonly controlUrl: URL
  /** the router's IPv6 address (the only host the transport talks to) */
  readonly gatewayAddress: string
  readonly #transport: NatUpnpTransport
  readonly #timeout: number

  private constructor(
    location: URL,
    controlUrl: URL,
    gateway: string,
    transport: NatUpnpTransport,
    timeout: number,
  ) {
    this.location = location
    this.controlUrl = controlUrl
    this.gatewayAddress = gateway
    this.#transport = transport
    this.#timeout = timeout
  }

  /** Reads the description at `location` and finds the firewall service; ERR_NOT_SUPPORTED without it. */
  static async connect(location: URL, opts: RequestOptions = {}): Promise<PinholeClient> {
    const gateway = location.hostname.replace(/^\[(.*)\]$/, '$1')
    const transport = createHttpTransport(gateway)
    const timeout = opts.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS
    const { signal, fail } = deadline(
      `Reading the UPnP description at ${location.href}`,
      timeout,
      opts.signal,
    )
    let reply: Awaited<ReturnType<NatUpnpTransport['getXml']>>
    try {
      reply = await transport.getXml(location.href, { signal })
    } catch (err) {
      throw fail(err)
    }
    if (reply.status !== 200 || reply.document === undefined) {
      throw NatError.GATEWAY(`Reading ${location.href}`, `HTTP status ${reply.status}`)
    }
    const control = pinholeControlUrl(reply.document, location)
    return new PinholeClient(location, control, gateway, transport, timeout)
  }

  /** Runs one action; a SOAP fault becomes ERR_GATEWAY with `upnpCode`. */
  async call(
    action: string,
    args: ReadonlyArray<[string, string | number]>,
    opts: RequestOptions = {},
  ): Promise<unknown> {
    const what = `UPnP ${action} on ${this.gatewayAddress}`
    const { signal, fail } = deadline(what, opts.timeout ?? this.#timeout, opts.signal)
    const headers = {
      'Content-Type': 'text/xml; charset="utf-8"',
      SOAPAction: JSON.stringify(`${PINHOLE_SERVICE}#${action}`),
    }
    let reply: Awaited<ReturnType<NatUpnpTransport['postXml']>>
    try {
      reply = await this.#transport.postXml(this.controlUrl.href, headers, pinholeEnvelope(action, args), {
        signal,
      })
    } catch (err) {
      throw fail(err)
    }
    if (reply.status === 200 && reply.document !== undefined) return reply.document
    const fault = parseUpnpFault(reply.document)
    if (fault === undefined) throw NatError.GATEWAY(what, `HTTP status ${reply.status} without a UPnP error`)
    debug('%s: fault %d %s', what, fault.code, fault.description)
    throw NatError.GATEWAY(what, `UPnP error ${fault.code} ${fault.description}`.trim(), {
      upnpCode: fault.code,
    })
  }

  /** Opens a pinhole; resolves with its UniqueID (the handle for update and delete). */
  async addPinhole(a: PinholeArgs, opts: RequestOptions = {}): Promise<number> {
    const body = await this.call(
      'AddPinhole',
      [
        ['RemoteHost', a.remoteHost ?? ''],
        ['RemotePort', a.remotePort ?? 0],
        ['InternalClient', a.internalClient],
        ['InternalPort', a.internalPort],
        ['Protocol', protocolNumber(a.protocol)],
        ['LeaseTime', pinholeLease(a.lease)],
      ],
      opts,
    )
    return parseAddPinhole(body)
  }

  /** Gives a pinhole a new lease (renewal). */
  async updatePinhole(uniqueId: number, lease: number, opts: RequestOptions = {}): Promise<void> {
    await this.call(
      'UpdatePinhole',
      [
        ['UniqueID', uniqueId],
        ['NewLeaseTime', pinholeLease(lease)],
      ],
      opts,
    )
  }

  async deletePinhole(uniqueId: number, opts: RequestOptions = {}): Promise<void> {
    await this.call('DeletePinhole', [['UniqueID', uniqueId]], opts)
  }

  /** How long the firewall keeps an outbound pinhole idle, seconds (miniupnpd 2.3.1 answers 501). */
  async outboundPinholeTimeout(a: Omit<PinholeArgs, 'lease'>, opts: RequestOptions = {}): Promise<number> {
    const body = await this.call(
      'GetOutboundPinholeTimeout',
      [
        ['RemoteHost', a.remoteHost ?? ''],
        ['RemotePort', a.remotePort ?? 0],
        ['InternalClient', a.internalClient],
        ['InternalPort', a.internalPort],
        ['Protocol', protocolNumber(a.protocol)],
      ],
      opts,
    )
    return parseOutboundPinholeTimeout(body)
  }

  async firewallStatus(opts: RequestOptions = {}): Promise<{ enabled: boolean; inboundAllowed: boolean }> {
    return parseFirewallStatus(await this.call('GetFirewallStatus', [], opts))
  }
}
