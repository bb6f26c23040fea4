/**
 * Opening a connection to the rendezvous server: TCP through `@pyp2p/framing` (optionally from a chosen
 * local port, bound so it can be reused for a punch), then the server's `HELLO`, which says how the
 * server sees this connection.
 */
import { isIPv6 } from 'node:net'
import { connectLine, type LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import { DEFAULT_PORT, isNodeId, parseServerMessage, type ServerMessage } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { CONNECT_TIMEOUT_MS, SERVER_LINE_LIMIT } from './constants.js'
import { PunchError, type PunchStage } from './errors.js'

const log = createDebug('pyp2p:punch:rendezvous')

export interface ServerAddress {
  host: string
  /** Default 8000 (`DEFAULT_PORT` of the protocol). */
  port?: number
}

export interface RendezvousConnectOptions {
  server: ServerAddress
  /** This node's id: 40 hex characters. */
  nodeId: string
  /**
   * The node's key (`@pyp2p/identity`; its `nodeId` must be `nodeId`). With it, the commands that act as
   * the node id (`READY`, `CLEAR <id> <token>`, `CANDIDATE`) are signed for servers that ask for proofs
   * (a `nonce=` in their `HELLO`). Without it they go unsigned, and a server that requires proofs (the
   * default) answers them `ERR_SIGNATURE_REQUIRED`. Default: none.
   */
  identity?: NodeIdentity
  /**
   * Local port to connect from. `0` binds a fresh port chosen by the kernel *with SO_REUSEADDR*, so the
   * same port can then be used for a punch (a port the kernel picks without an explicit bind cannot be
   * bound again while the connection lives or lingers in TIME_WAIT). Default: not bound (any port).
   */
  localPort?: number
  /**
   * Local address to connect from (alone: any port on it). Default: the kernel's choice; with
   * `localPort`, `0.0.0.0` (`::` for an IPv6 server).
   */
  localAddress?: string
  /** Stage named by errors of this client. Default `coordination`. */
  stage?: PunchStage
  /** Connect and greeting timeout in ms. Default {@link CONNECT_TIMEOUT_MS}. */
  timeout?: number
  /**
   * Once connected, how long to wait for the `HELLO`, ms. Default: `timeout`. A server that accepted
   * the connection is alive but busy (a restart with thousands of nodes reconnecting): waiting longer
   * costs it less than a new connection would.
   */
  helloTimeout?: number
  signal?: AbortSignal
}

export interface OpenedRendezvous {
  connection: LineSocket
  /** The address and port the server saw, and what proofs on this connection sign (its `HELLO`). */
  hello: {
    ip: string
    port: number
    nonce?: string | undefined
    serverId?: string | undefined
    /** `lifetime=`: how long the server keeps a registration, s. */
    lifetimeSeconds?: number | undefined
    /** `proofs=connection`: a proof binds the node id to this connection. */
    connectionProofs?: true | undefined
  }
  /** `host:port`, for messages. */
  where: string
  stage: PunchStage
}

/** Connects and reads the greeting. Throws `PunchError` (stage from the options); never leaks the socket. */
export async function openRendezvous(options: RendezvousConnectOptions): Promise<OpenedRendezvous> {
  const { server, nodeId, signal, timeout = CONNECT_TIMEOUT_MS, stage = 'coordination' } = options
  const port = server.port ?? DEFAULT_PORT
  const where = `${server.host}:${port}`
  if (!isNodeId(nodeId.toLowerCase())) {
    throw PunchError.INVALID_ARGUMENT(`node id ${JSON.stringify(nodeId)} is not 40 hex characters`)
  }
  if (options.identity !== undefined && options.identity.nodeId !== nodeId.toLowerCase()) {
    throw PunchError.INVALID_ARGUMENT(`identity is node ${options.identity.nodeId}, not node ${nodeId}`)
  }
  // A local address alone is honoured too (a session's `localAddress`): connect from that interface.
  const bind =
    options.localPort === undefined
      ? options.localAddress === undefined
        ? {}
        : { localAddress: options.localAddress }
      : {
          localPort: options.localPort,
          localAddress: options.localAddress ?? (isIPv6(server.host) ? '::' : '0.0.0.0'),
        }
  let connection: LineSocket
  try {
    connection = await connectLine({
      host: server.host,
      port,
      ...bind,
      timeout,
      maxLineLength: SERVER_LINE_LIMIT,
      ...(signal !== undefined && { signal }),
    })
  } catch (err) {
    if (signal?.aborted) throw PunchError.ABORTED(stage, signal.reason)
    throw PunchError.SERVER_UNREACHABLE(stage, where, err)
  }
  let line: string
  try {
    const helloTimeout = options.helloTimeout ?? timeout
    line = await connection.readLine({ timeout: helloTimeout, ...(signal !== undefined && { signal }) })
  } catch (err) {
    connection.close()
    if (signal?.aborted) throw PunchError.ABORTED(stage, signal.reason)
    throw PunchError.SERVER_UNREACHABLE(stage, where, err)
  }
  let hello: ServerMessage
  try {
    hello = parseServerMessage(line)
  } catch (err) {
    connection.close()
    throw PunchError.PROTOCOL(stage, `greeting ${JSON.stringify(line.slice(0, 80))}`, err)
  }
  if (hello.type !== 'HELLO') {
    connection.close()
    if (hello.type === 'ERROR') throw PunchError.SERVER_ERROR(stage, hello.code, hello.text)
    throw PunchError.PROTOCOL(stage, `expected HELLO, got ${hello.type}`)
  }
  log('connected to %s from %d, seen as %s:%d', where, connection.localPort, hello.ip, hello.port)
  const { ip, port: observedPort, nonce, serverId, lifetimeSeconds, connectionProofs } = hello
  const terms = { nonce, serverId, lifetimeSeconds, connectionProofs }
  return { connection, hello: { ip, port: observedPort, ...terms }, where, stage }
}
