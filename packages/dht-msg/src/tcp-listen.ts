/**
 * `server.listen()` as a promise that honours an AbortSignal and resolves with the bound address.
 */
import type { Server } from 'node:net'
import { RelayError } from './errors.js'

export async function listenTcp(
  server: Server,
  options: { host: string; port: number; signal?: AbortSignal | undefined },
): Promise<{ host: string; port: number }> {
  const { host, port, signal } = options
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort)
      reject(err)
    }
    const onAbort = (): void => {
      server.off('error', onError)
      server.close()
      reject(RelayError.ABORTED(signal?.reason))
    }
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    server.once('error', onError)
    server.listen({ host, port }, () => {
      server.off('error', onError)
      signal?.removeEventListener('abort', onAbort)
      resolve()
    })
  })
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('RelayServer: no TCP address')
  return { host: addr.address, port: addr.port }
}
