import { createConnection, type LookupFunction, type Socket } from 'node:net'
import createDebug from 'debug'
import { anySignal } from './any-signal.js'
import { DEFAULT_CONNECT_TIMEOUT } from './constants.js'
import { FramingError } from './errors.js'
import { LineSocket } from './line-socket.js'
import type { LineSocketOptions } from './options.js'

const log = createDebug('pyp2p:framing')

export interface ConnectLineOptions extends LineSocketOptions {
  host: string
  port: number
  /** Local port to connect from (hole punching reuses a port the NAT already mapped). */
  localPort?: number
  /** Local address (interface) to connect from. */
  localAddress?: string
  /** IP version for host name lookups: 0 (either, default), 4 or 6. */
  family?: 0 | 4 | 6
  /** Custom host name resolver (as for `net.connect`); default `dns.lookup`. */
  lookup?: LookupFunction
  signal?: AbortSignal
  /** Connect timeout in ms; rejects with `ERR_CONNECT_TIMEOUT`. Default 5,000 (the original's). */
  timeout?: number
}

export type ConnectSocketOptions = Omit<ConnectLineOptions, keyof LineSocketOptions>

/**
 * Opens a TCP connection and resolves with the bare socket, nothing reading it yet (for a handshake
 * that must see the first bytes). Rejects with `ERR_CONNECT_FAILED` (the socket error is the `cause`),
 * `ERR_CONNECT_TIMEOUT`, or `ERR_ABORTED` when `signal` fires; on every path the socket and all
 * listeners are cleaned up.
 */
export function connectSocket(options: ConnectSocketOptions): Promise<Socket> {
  const {
    host,
    port,
    localPort,
    localAddress,
    family,
    lookup,
    signal,
    timeout = DEFAULT_CONNECT_TIMEOUT,
  } = options
  if (signal?.aborted) return Promise.reject(FramingError.ABORTED(signal.reason))
  if (!Number.isSafeInteger(timeout) || timeout <= 0) {
    return Promise.reject(new RangeError(`timeout must be a positive integer (ms), got ${timeout}`))
  }
  return new Promise((resolve, reject) => {
    const timeoutSignal = AbortSignal.timeout(timeout)
    const abort = anySignal(signal, timeoutSignal)
    const socket = createConnection({
      host,
      port,
      ...(localPort !== undefined && { localPort }),
      ...(localAddress !== undefined && { localAddress }),
      ...(family !== undefined && { family }),
      ...(lookup !== undefined && { lookup }),
    })
    const cleanup = (): void => {
      socket.off('connect', onConnect)
      socket.off('error', onError)
      abort.removeEventListener('abort', onAbort)
    }
    const onConnect = (): void => {
      cleanup()
      log('connected to %s:%d from port %d', host, port, socket.localPort)
      resolve(socket)
    }
    const onError = (err: Error): void => {
      cleanup()
      socket.destroy()
      reject(FramingError.CONNECT_FAILED(host, port, err))
    }
    const onAbort = (): void => {
      cleanup()
      socket.destroy()
      reject(
        signal?.aborted
          ? FramingError.ABORTED(signal.reason)
          : FramingError.CONNECT_TIMEOUT(host, port, timeout),
      )
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    abort.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Opens a TCP connection (`connectSocket`) and wraps it in a {@link LineSocket}. Rejects as
 * `connectSocket` does.
 */
export async function connectLine(options: ConnectLineOptions): Promise<LineSocket> {
  const { host, port, localPort, localAddress, family, lookup, signal, timeout, ...limits } = options
  const socket = await connectSocket({
    host,
    port,
    ...(localPort !== undefined && { localPort }),
    ...(localAddress !== undefined && { localAddress }),
    ...(family !== undefined && { family }),
    ...(lookup !== undefined && { lookup }),
    ...(signal !== undefined && { signal }),
    ...(timeout !== undefined && { timeout }),
  })
  try {
    return new LineSocket(socket, limits)
  } catch (err) {
    socket.destroy()
    throw err
  }
}
