// Two raw sockets connected over loopback, for tests that drive both ends of one TCP connection.
import { once } from 'node:events'
import { connect as connectSocket, createServer, type Server, type Socket } from 'node:net'

/** The pair, and `cleanups` gets what destroys both ends and closes the listener. */
export async function socketPair(cleanups: Array<() => unknown>): Promise<[Socket, Socket]> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const accepted = once(server, 'connection')
  const a = await connectSocket({ host: '127.0.0.1', port: (server.address() as { port: number }).port })
  const [b] = (await accepted) as [Socket]
  cleanups.push(() => {
    a.destroy()
    b.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return [a, b]
}
