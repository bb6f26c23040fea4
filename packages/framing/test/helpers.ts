import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'

/** Upper bound for any single wait in these tests: generous for a loaded 2-core CI machine. */
export const WAIT_MS = 20_000

/** Rejects if `promise` does not settle within `ms`; the timer is always cleared. */
export async function bounded<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface Loopback {
  server: Server
  port: number
  /** The next socket the server accepts. */
  accept(): Promise<Socket>
  close(): Promise<void>
}

/** A TCP server on 127.0.0.1 with an OS-chosen port; accepted sockets are handed out in order. */
export async function loopback(): Promise<Loopback> {
  const accepted: Socket[] = []
  const waiting: ((s: Socket) => void)[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    const w = waiting.shift()
    if (w) w(socket)
    else accepted.push(socket)
  })
  server.listen(0, '127.0.0.1')
  await bounded(once(server, 'listening'), 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return {
    server,
    port: address.port,
    accept: () => {
      const s = accepted.shift()
      if (s) return Promise.resolve(s)
      return bounded(new Promise<Socket>((resolve) => waiting.push(resolve)), 'accept')
    },
    close: async () => {
      for (const s of sockets) s.destroy()
      await bounded(new Promise<void>((resolve) => server.close(() => resolve())), 'server close')
    },
  }
}

/** Resolves once `socket` has received at least `total` bytes in all. */
export function receivedAtLeast(socket: Socket, total: number): Promise<void> {
  if (socket.bytesRead >= total) return Promise.resolve()
  return bounded(
    new Promise<void>((resolve) => {
      const onData = (): void => {
        if (socket.bytesRead >= total) {
          socket.off('data', onData)
          resolve()
        }
      }
      socket.on('data', onData)
    }),
    `${total} bytes`,
  )
}
