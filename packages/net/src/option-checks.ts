/**
 * The checks `resolveNetOptions` (options.ts) runs on single values: each throws `NetError`
 * `ERR_INVALID_OPTION` naming the option and what it must be.
 */
import type { MessageTransport } from '@pyp2p/dht-msg'
import { isCipherList, type NoiseCipher } from '@pyp2p/secure'
import { DEFAULT_SERVER_PORT } from './constants.js'
import { NetError } from './errors.js'

export interface ServerAddress {
  host: string
  /** Default 8000. */
  port?: number
}

export function int(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw NetError.INVALID_OPTION(name, v, `an integer ${min}..${max}`)
  return v
}

export function cipherList(v: readonly NoiseCipher[] | undefined): readonly NoiseCipher[] | undefined {
  if (v !== undefined && !isCipherList(v)) {
    throw NetError.INVALID_OPTION(
      'ciphers',
      v,
      'a non-empty list of distinct Noise ciphers (AESGCM, ChaChaPoly)',
    )
  }
  return v
}

/** Parses `host:port`, `[v6]:port` or `{ host, port }`; throws `ERR_INVALID_OPTION`. */
export function parseServerAddress(name: string, value: ServerAddress | string): Required<ServerAddress> {
  let host: string
  let port: number | undefined
  if (typeof value === 'string') {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(value) ?? /^([^:]+)(?::(\d+))?$/.exec(value)
    if (m === null) throw NetError.INVALID_OPTION(name, value, '"host:port" or { host, port }')
    host = m[1]!
    port = m[2] === undefined ? undefined : Number(m[2])
  } else if (typeof value === 'object' && value !== null && typeof value.host === 'string') {
    host = value.host
    port = value.port
  } else {
    throw NetError.INVALID_OPTION(name, value, '"host:port" or { host, port }')
  }
  if (host === '') throw NetError.INVALID_OPTION(name, value, 'a non-empty host')
  return { host, port: int(`${name}.port`, port, DEFAULT_SERVER_PORT, 1, 65_535) }
}

export function isTransport(v: unknown): v is MessageTransport {
  return typeof v === 'object' && v !== null && typeof (v as MessageTransport).subscribe === 'function'
}
