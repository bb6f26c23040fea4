/**
 * A raw TCP dial: the socket with nothing reading it yet, so the upgrade step (upgrade.ts) sees its
 * first byte (the secure handshake must). Fails with @pyp2p/framing's errors, as `connectLine` does,
 * so attempt reports keep their codes: `ERR_CONNECT_FAILED`, `ERR_CONNECT_TIMEOUT`, `ERR_ABORTED`.
 */
import { createConnection, type Socket } from 'node:net'
import { FramingError } from '@pyp2p/framing'

export interface DialOptions {
  host: string
  port: number
  signal: AbortSignal
  /** ms */
  timeout: number
}

export function dialSocket(o: DialOptions): Promise<Socket> {
  const { host, port, signal, timeout } = o
  if (signal.aborted) return Promise.reject(FramingError.ABORTED(signal.reason))
  return new Promise((resolve, reject) => {
    const abort = AbortSignal.any([signal, AbortSignal.timeout(timeout)])
    const socket = createConnection({ host, port })
    const cleanup = (): void => {
      socket.off('connect', onConnect)
      socket.off('error', onError)
      abort.removeEventListener('abort', onAbort)
    }
    const onConnect = (): void => {
      cleanup()
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
        signal.aborted
          ? FramingError.ABORTED(signal.reason)
          : FramingError.CONNECT_TIMEOUT(host, port, timeout),
      )
    }
    socket.once('connect', onConnect)
    socket.once('error', onError)
    abort.addEventListener('abort', onAbort, { once: true })
  })
}
