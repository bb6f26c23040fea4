/**
 * The receiving end of bench/src/secure.ts, in a child process of its own (so each end of a connection
 * has its own event loop and core, as between two real nodes). Listens on two loopback ports, one plain
 * and one secure (@pyp2p/secure's handshake as the listener), and on every connection, over a LineSocket:
 *
 * - `PYP2P-CONNECT/1 ...` (a plain hello) is answered `ACCEPT`, for the plain handshake time;
 * - `COUNT <n>` makes it count the next n lines and answer `DONE` after the last, for lines/s;
 * - `CPU` is answered `CPU <µs>`: this process's CPU time so far (user + system), for CPU per line.
 *
 * Tells its parent over IPC `{ event: 'listening', plainPort, securePort, nodeId }`; exits when the
 * IPC channel closes.
 */
import { once } from 'node:events'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { secureInbound } from '@pyp2p/secure'

const identity = NodeIdentity.generate()

function serve(con: LineSocket): void {
  let remaining = 0
  con.on('line', (line) => {
    if (remaining > 0) {
      if (--remaining === 0) con.sendLine('DONE')
    } else if (line.startsWith('COUNT ')) {
      remaining = Number(line.slice(6))
    } else if (line === 'CPU') {
      const { user, system } = process.cpuUsage()
      con.sendLine(`CPU ${user + system}`)
    } else if (line.startsWith('PYP2P-CONNECT/1 ')) {
      con.sendLine('ACCEPT')
    }
  })
}

async function listen(onSocket: (socket: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket)
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 })
  await once(server, 'listening')
  return { server, port: (server.address() as AddressInfo).port }
}

const plain = await listen((socket) => serve(new LineSocket(socket)))
const secure = await listen((socket) => {
  secureInbound(socket, { identity }).then(
    (session) => serve(new LineSocket(socket, { stream: session.stream })),
    () => socket.destroy(), // the bench closes handshake-only connections at once: not a failure here
  )
})
process.send?.({
  event: 'listening',
  plainPort: plain.port,
  securePort: secure.port,
  nodeId: identity.nodeId,
})
process.on('disconnect', () => {
  plain.server.close()
  secure.server.close()
  process.exit(0)
})
