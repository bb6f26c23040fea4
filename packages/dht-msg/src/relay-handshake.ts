/**
 * The client side of a relay connection's start: TCP connect, `RELAY` hello, sign the challenge,
 * read WELCOME. Every failure is one RelayError.
 */
import { anySignal, connectLine, FramingError, type LineSocket } from '@pyp2p/framing'
import type { NodeIdentity } from '@pyp2p/identity'
import { RelayError } from './errors.js'
import { formatHello, parseServerLine, type ServerLine } from './protocol.js'

export interface HandshakeOptions {
  host: string
  port: number
  localAddress: string | undefined
  identity: NodeIdentity
  timeout: number
  maxLineLength: number
  /** The client's own close: a handshake cut short by it fails with ERR_CLOSED. */
  closing: AbortSignal
  /** The caller's signal: ERR_ABORTED. */
  signal: AbortSignal | undefined
}

export interface RelaySessionInfo {
  con: LineSocket
  /** Our address and port as the relay saw them. */
  observed: { address: string; port: number }
}

export async function openRelaySession(o: HandshakeOptions): Promise<RelaySessionInfo> {
  const signals = [o.closing, AbortSignal.timeout(o.timeout)]
  if (o.signal !== undefined) signals.push(o.signal)
  const abort = anySignal(...signals)
  let con: LineSocket
  try {
    con = await connectLine({
      host: o.host,
      port: o.port,
      ...(o.localAddress !== undefined && { localAddress: o.localAddress }),
      signal: abort,
      timeout: o.timeout,
      maxLineLength: o.maxLineLength,
    })
  } catch (err) {
    throw mapError(err, o)
  }
  try {
    const { nodeId } = o.identity
    con.sendLine(formatHello(nodeId))
    let reply = await readReply(con, abort, true)
    if (reply.type !== 'CHALLENGE') throw RelayError.PROTOCOL(`expected CHALLENGE, got ${reply.type}`)
    con.sendLine(`AUTH ${o.identity.publicKey} ${o.identity.signChallenge(reply.challenge)}`)
    reply = await readReply(con, abort, false)
    if (reply.type !== 'WELCOME' || reply.nodeId !== nodeId) {
      throw RelayError.PROTOCOL(`expected WELCOME ${nodeId}, got ${reply.type}`)
    }
    return { con, observed: { address: reply.address, port: reply.port } }
  } catch (err) {
    con.close()
    throw mapError(err, o)
  }
}

/** The next line of the handshake; an ERROR line becomes its RelayError. */
async function readReply(con: LineSocket, signal: AbortSignal, first: boolean): Promise<ServerLine> {
  let line = await con.readLine({ signal })
  // Embedded in bootstrap-server, the rendezvous greeting (HELLO PYP2P/1 ...) comes first.
  if (first && line.startsWith('HELLO ')) line = await con.readLine({ signal })
  const reply = parseServerLine(line)
  if (reply.type === 'ERROR') throw RelayError.fromWire(reply.code, reply.text)
  return reply
}

function mapError(err: unknown, o: HandshakeOptions): RelayError {
  if (err instanceof RelayError) return err
  if (o.closing.aborted) return RelayError.CLOSED()
  if (o.signal?.aborted) return RelayError.ABORTED(o.signal.reason)
  if (err instanceof FramingError && err.code === 'ERR_ABORTED') {
    return RelayError.CONNECT_FAILED(new Error(`no answer within ${o.timeout} ms`))
  }
  return RelayError.CONNECT_FAILED(err)
}
