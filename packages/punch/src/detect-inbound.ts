/**
 * What this host's router does with an unsolicited inbound SYN: reset it (`rst`, Linux's answer when
 * nothing listens) or drop it silently (`drop`, RFC 5382 REQ-4). The rendezvous server is asked to dial
 * back (`CHECK TCP <port>`) to the port of this very probe connection as the server sees it: that port
 * is mapped to this connection only, and a SYN from another server port matches no mapping of a
 * port-restricted NAT, so the router's own policy answers. `connection refused` means `rst`; no answer
 * (the server's timeout, or ours) means `drop`.
 *
 * Why it matters: a SYN that reaches a resetting router before the host behind it has sent its own
 * SYN is reset, so that host should fire first (the server orders the two sides from the `INBOUND`
 * lines; see PROTOCOL.md "A punch").
 */
import { randomBytes } from 'node:crypto'
import type { InboundPolicy } from '@pyp2p/rendezvous-protocol'
import createDebug from 'debug'
import { INBOUND_PROBE_TIMEOUT_MS } from './constants.js'
import { isUnNatted } from './direct-listener.js'
import { isPunchError } from './errors.js'
import { RendezvousClient, type ServerAddress } from './rendezvous-client.js'

export type { InboundPolicy } from '@pyp2p/rendezvous-protocol'

const log = createDebug('pyp2p:punch')

/** `NO <reason>` texts of a dial-back that a reset produced (bootstrap-server's dial-back.ts). */
const RESET_REASON = /refused|reset/i

export interface DetectInboundOptions {
  server: ServerAddress
  /** Node id for the probe connection; any 40 hex characters. */
  nodeId: string
  localAddress?: string
  /** How long to wait for the verdict before concluding `drop`. Default {@link INBOUND_PROBE_TIMEOUT_MS}. */
  timeout?: number
  signal?: AbortSignal
}

/**
 * Resolves with `rst` or `drop`, or `undefined` when it cannot tell: no router in front of this host
 * (the server sees the local address), a server without `CHECK` or one that rate-limits it, or
 * something accepted the dial-back. Throws `PunchError` (stage `detection`) only when the server cannot
 * be reached or `signal` fires.
 */
export async function detectInbound(options: DetectInboundOptions): Promise<InboundPolicy | undefined> {
  const { server, nodeId, signal, timeout = INBOUND_PROBE_TIMEOUT_MS } = options
  const client = await RendezvousClient.connect({
    server,
    nodeId,
    stage: 'detection',
    localPort: 0,
    ...(options.localAddress !== undefined && { localAddress: options.localAddress }),
    ...(signal !== undefined && { signal }),
  })
  try {
    const local = { address: client.connection.localAddress, port: client.localPort }
    if (isUnNatted(client.observed, local)) return undefined
    const nonce = randomBytes(12).toString('base64url')
    const port = client.observed.port
    let reply: Awaited<ReturnType<RendezvousClient['request']>>
    try {
      reply = await client.request(
        { type: 'CHECK', port, nonce },
        { timeout, ...(signal !== undefined && { signal }) },
      )
    } catch (err) {
      if (isPunchError(err) && err.code === 'ERR_TIMEOUT') return 'drop'
      if (isPunchError(err) && err.code === 'ERR_SERVER_ERROR') {
        log('inbound probe: server answered %s, policy unknown', err.serverCode)
        return undefined
      }
      throw err
    }
    if (reply.type !== 'REACHABLE' || reply.reachable) return undefined
    return RESET_REASON.test(reply.reason ?? '') ? 'rst' : 'drop'
  } finally {
    client.close()
  }
}
