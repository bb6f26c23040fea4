// Typed, promise-based face of the (patched) nat-pmp Client. One short-lived client (one UDP
// socket on an ephemeral port) per request, closed on every path.
import natpmp, { type NatPmpClient, type NatPmpError } from 'nat-pmp'
import { deadline } from './abort.js'
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  NATPMP_INITIAL_RETRY_MS,
  NATPMP_MAX_TRIES,
  NATPMP_RESULT,
} from './constants.js'
import { NatError } from './errors.js'
import type { Protocol, RequestOptions } from './types.js'

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

function uint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max
}

export interface NatPmpExternal {
  address: string
  epoch: number
}

/** Narrows nat-pmp's reply to an external address request. */
export function parseNatPmpExternal(raw: unknown): NatPmpExternal {
  if (!isRecord(raw) || !Array.isArray(raw.ip) || raw.ip.length !== 4 || !raw.ip.every((b) => uint(b, 255))) {
    throw NatError.INVALID_RESPONSE('NAT-PMP external address reply')
  }
  if (!uint(raw.epoch, 0xffffffff)) throw NatError.INVALID_RESPONSE('NAT-PMP epoch')
  return { address: raw.ip.join('.'), epoch: raw.epoch }
}

export interface NatPmpGrant {
  internalPort: number
  externalPort: number
  /** granted lifetime, seconds */
  ttl: number
  epoch: number
}

/** Narrows nat-pmp's reply to a mapping request. */
export function parseNatPmpMapping(raw: unknown): NatPmpGrant {
  if (!isRecord(raw)) throw NatError.INVALID_RESPONSE('NAT-PMP mapping reply')
  const { internal, external, ttl, epoch } = raw
  if (
    !uint(internal, 65535) ||
    !uint(external, 65535) ||
    !uint(ttl, 0xffffffff) ||
    !uint(epoch, 0xffffffff)
  ) {
    throw NatError.INVALID_RESPONSE('NAT-PMP mapping reply')
  }
  return { internalPort: internal, externalPort: external, ttl, epoch }
}

/** The NatError for a NAT-PMP result code (RFC 6886 section 3.5). */
export function natpmpResultError(code: number, what: string): NatError {
  const details = { natpmpCode: code }
  switch (code) {
    case NATPMP_RESULT.NOT_AUTHORIZED:
      return NatError.NOT_AUTHORIZED(details)
    case NATPMP_RESULT.OUT_OF_RESOURCES:
      return NatError.OUT_OF_RESOURCES(details)
    case NATPMP_RESULT.NETWORK_FAILURE:
      return NatError.GATEWAY(
        what,
        'NAT-PMP result 3, network failure (the router has no WAN address yet)',
        details,
      )
    case NATPMP_RESULT.UNSUPPORTED_VERSION:
      return NatError.GATEWAY(what, 'NAT-PMP result 1, unsupported version', details)
    case NATPMP_RESULT.UNSUPPORTED_OPCODE:
      return NatError.GATEWAY(what, 'NAT-PMP result 5, unsupported opcode', details)
    default:
      return NatError.GATEWAY(what, `NAT-PMP result ${code}`, details)
  }
}

async function request(
  gateway: string,
  what: string,
  opts: RequestOptions,
  send: (client: NatPmpClient, cb: (err: NatPmpError | null, info?: unknown) => void) => void,
): Promise<unknown> {
  const { signal, fail } = deadline(what, opts.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS, opts.signal)
  if (signal.aborted) throw fail()
  const client = natpmp.connect(gateway, {
    port: 0,
    initialRetry: NATPMP_INITIAL_RETRY_MS,
    maxTries: NATPMP_MAX_TRIES,
  })
  // Closing fails the pending request with ECLOSED, which settles the promise below.
  const onAbort = () => client.close()
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await new Promise<unknown>((resolve, reject) => {
      client.on('error', (err: Error) => reject(fail(err)))
      send(client, (err, info) => {
        if (err === null) return resolve(info)
        if (typeof err.code === 'number') return reject(natpmpResultError(err.code, what))
        if (err.code === 'ETIMEDOUT')
          return reject(NatError.TIMEOUT(what, opts.timeout ?? DEFAULT_REQUEST_TIMEOUT_MS, err))
        if (err.code === 'ECONNREFUSED') {
          return reject(
            NatError.GATEWAY(what, 'nothing listens on its NAT-PMP port 5351 (NAT-PMP is off)', {
              cause: err,
            }),
          )
        }
        reject(fail(err))
      })
    })
  } finally {
    signal.removeEventListener('abort', onAbort)
    // Resolve only once the socket is really closed (close is asynchronous).
    const socket = client.socket
    const closed = socket ? new Promise<void>((resolve) => socket.once('close', () => resolve())) : undefined
    client.close()
    await closed
  }
}

export async function natpmpExternalAddress(
  gateway: string,
  opts: RequestOptions = {},
): Promise<NatPmpExternal> {
  const raw = await request(gateway, `NAT-PMP external address from ${gateway}`, opts, (c, cb) =>
    c.externalIp(cb),
  )
  return parseNatPmpExternal(raw)
}

export interface NatPmpMapArgs {
  protocol: Protocol
  internalPort: number
  /** suggested external port; 0 lets the gateway choose */
  externalPort: number
  ttl: number
}

export async function natpmpMap(
  gateway: string,
  a: NatPmpMapArgs,
  opts: RequestOptions = {},
): Promise<NatPmpGrant> {
  const type = a.protocol === 'UDP' ? 'udp' : 'tcp'
  const raw = await request(gateway, `NAT-PMP mapping on ${gateway}`, opts, (c, cb) =>
    c.portMapping({ type, private: a.internalPort, public: a.externalPort, ttl: a.ttl }, cb),
  )
  return parseNatPmpMapping(raw)
}

/** Deletes a mapping: lifetime 0 and suggested external port 0 (RFC 6886 section 3.4). */
export async function natpmpUnmap(
  gateway: string,
  a: { protocol: Protocol; internalPort: number },
  opts: RequestOptions = {},
): Promise<NatPmpGrant> {
  const type = a.protocol === 'UDP' ? 'udp' : 'tcp'
  const raw = await request(gateway, `NAT-PMP unmapping on ${gateway}`, opts, (c, cb) =>
    c.portUnmapping({ type, private: a.internalPort, public: 0 }, cb),
  )
  return parseNatPmpMapping(raw)
}
