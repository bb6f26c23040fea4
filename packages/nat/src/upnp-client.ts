// Typed, promise-based face of the (patched) nat-upnp Device: one instance per gateway service.
import createDebug from 'debug'
import natUpnp, { type NatUpnpDevice } from 'nat-upnp'
import { deadline } from './abort.js'
import { isIPv4 } from './address.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_LIST_ENTRIES, UPNP_ERROR, WAN_SERVICE_TYPES } from './constants.js'
import { NatError } from './errors.js'
import { createHttpTransport } from './http-transport.js'
import {
  parseActionResponse,
  parseMappingEntry,
  parseReservedPort,
  parseUpnpFault,
  type UpnpMappingEntry,
} from './soap.js'
import type { Protocol, RequestOptions } from './types.js'

const debug = createDebug('pyp2p:nat:upnp')

export interface AddMappingArgs {
  externalPort: number
  protocol: Protocol
  internalPort: number
  internalClient: string
  description: string
  /** seconds; 0 = permanent */
  lease: number
}

export class UpnpClient {
  readonly location: string
  readonly gatewayAddress: string
  readonly localAddress: string
  readonly serviceType: string
  readonly version: 1 | 2
  readonly #device: NatUpnpDevice
  readonly #timeout: number

  private constructor(
    location: string,
    gatewayAddress: string,
    localAddress: string,
    device: NatUpnpDevice,
    serviceType: string,
    timeout: number,
  ) {
    this.location = location
    this.gatewayAddress = gatewayAddress
    this.localAddress = localAddress
    this.#device = device
    this.serviceType = serviceType
    this.version = serviceType.endsWith(':2') ? 2 : 1
    this.#timeout = timeout
  }

  /** Fetches the device description and picks the best WAN service (IGD v2 first). */
  static async connect(
    location: string,
    gatewayAddress: string,
    localAddress: string,
    opts: RequestOptions = {},
  ): Promise<UpnpClient> {
    const timeout = opts.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS
    const device = natUpnp.device.create(location, { transport: createHttpTransport(gatewayAddress) })
    const { signal, fail } = deadline(`Reading the UPnP description at ${location}`, timeout, opts.signal)
    const service = await new Promise<string>((resolve, reject) => {
      device.getService(
        [...WAN_SERVICE_TYPES],
        (err, info) => {
          if (err || info === undefined) reject(fail(err))
          else resolve(info.service)
        },
        { signal },
      )
    })
    return new UpnpClient(location, gatewayAddress, localAddress, device, service, timeout)
  }

  /** Runs one SOAP action; a fault becomes a NatError carrying `upnpCode`. */
  async call(
    action: string,
    args: Array<[string, string | number | undefined]>,
    opts: RequestOptions = {},
  ): Promise<Record<string, string>> {
    const what = `UPnP ${action} on ${this.gatewayAddress}`
    const { signal, fail } = deadline(what, opts.timeout ?? this.#timeout, opts.signal)
    const body = await new Promise<unknown>((resolve, reject) => {
      this.#device.run(
        action,
        args,
        (err, result) => {
          if (err === null) return resolve(result)
          const fault = parseUpnpFault(err.document)
          if (fault !== undefined) {
            debug('%s: fault %d %s', what, fault.code, fault.description)
            reject(
              NatError.GATEWAY(what, `UPnP error ${fault.code} ${fault.description}`.trim(), {
                upnpCode: fault.code,
                cause: err,
              }),
            )
          } else reject(fail(err))
        },
        { signal },
      )
    })
    return parseActionResponse(body, action)
  }

  /** The WAN address, or null when the router reports none ('' or 0.0.0.0: miniupnpd does that
   * when its WAN address is private). */
  async externalIp(opts: RequestOptions = {}): Promise<string | null> {
    const out = await this.call('GetExternalIPAddress', [], opts)
    const address = (out.NewExternalIPAddress ?? '').trim()
    if (address === '' || address === '0.0.0.0') return null
    if (!isIPv4(address)) {
      throw NatError.INVALID_RESPONSE('external address', new Error(JSON.stringify(address)))
    }
    return address
  }

  async addPortMapping(a: AddMappingArgs, opts: RequestOptions = {}): Promise<void> {
    await this.call('AddPortMapping', this.#mappingArgs(a), opts)
  }

  /** IGD v2 only: the router picks a free port near `externalPort` and returns it. */
  async addAnyPortMapping(a: AddMappingArgs, opts: RequestOptions = {}): Promise<number> {
    return parseReservedPort(await this.call('AddAnyPortMapping', this.#mappingArgs(a), opts))
  }

  #mappingArgs(a: AddMappingArgs): Array<[string, string | number]> {
    return [
      ['NewRemoteHost', ''],
      ['NewExternalPort', a.externalPort],
      ['NewProtocol', a.protocol],
      ['NewInternalPort', a.internalPort],
      ['NewInternalClient', a.internalClient],
      ['NewEnabled', 1],
      ['NewPortMappingDescription', a.description],
      ['NewLeaseDuration', a.lease],
    ]
  }

  async deletePortMapping(
    externalPort: number,
    protocol: Protocol,
    opts: RequestOptions = {},
  ): Promise<void> {
    await this.call(
      'DeletePortMapping',
      [
        ['NewRemoteHost', ''],
        ['NewExternalPort', externalPort],
        ['NewProtocol', protocol],
      ],
      opts,
    )
  }

  /** The entry for an external port, or undefined when the router has none (714). */
  async getSpecificEntry(
    externalPort: number,
    protocol: Protocol,
    opts: RequestOptions = {},
  ): Promise<UpnpMappingEntry | undefined> {
    try {
      const out = await this.call(
        'GetSpecificPortMappingEntry',
        [
          ['NewRemoteHost', ''],
          ['NewExternalPort', externalPort],
          ['NewProtocol', protocol],
        ],
        opts,
      )
      return parseMappingEntry(out, { externalPort, protocol })
    } catch (err) {
      if (err instanceof NatError && err.upnpCode === UPNP_ERROR.NO_SUCH_ENTRY) return undefined
      throw err
    }
  }

  /** The router's whole table, by index until it answers 713 (or any fault after index 0). */
  async list(opts: RequestOptions = {}): Promise<UpnpMappingEntry[]> {
    const out: UpnpMappingEntry[] = []
    for (let i = 0; i < MAX_LIST_ENTRIES; i++) {
      try {
        out.push(
          parseMappingEntry(
            await this.call('GetGenericPortMappingEntry', [['NewPortMappingIndex', i]], opts),
          ),
        )
      } catch (err) {
        if (err instanceof NatError && err.upnpCode !== undefined) break
        throw err
      }
    }
    return out
  }
}
