import { once } from 'node:events'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { SecureError } from '../src/index.js'

/** A loopback server on an OS port; `sockets` yields each accepted socket. */
export async function listen(): Promise<{ server: Server; port: number; next: () => Promise<Socket> }> {
  const server = createServer()
  const waiting: ((s: Socket) => void)[] = []
  const accepted: Socket[] = []
  server.on('connection', (socket) => {
    const take = waiting.shift()
    if (take) take(socket)
    else accepted.push(socket)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const next = (): Promise<Socket> => {
    const socket = accepted.shift()
    return socket ? Promise.resolve(socket) : new Promise((resolve) => waiting.push(resolve))
  }
  return { server, port, next }
}

export async function dial(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

/** The `code` a promise rejects with (a SecureError's), or 'resolved'. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
    return 'resolved'
  } catch (err) {
    if (err instanceof SecureError) return err.code
    throw err
  }
}

/** Everything a socket receives until it closes. */
export async function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = []
  socket.on('data', (c: Buffer) => chunks.push(c))
  socket.on('error', () => {})
  await once(socket, 'close')
  return Buffer.concat(chunks)
}
