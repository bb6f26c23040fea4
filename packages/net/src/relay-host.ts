/**
 * A passive node serving a circuit relay for others (`circuitRelay: { serve: true, ...limits }`, issue
 * 14): @pyp2p/relay's `CircuitRelay` with the node's own limits, on a port of its own (`servePort`,
 * on `passiveBind`), mapped on the router like the node's port when the node is passive through a
 * mapping. A second port rather than the node's own: the node's listener admits peers (pending
 * handshakes per prefix, the dial-back screen, the first bytes' timeout, then Noise or a hello) while
 * a relay's connections are reservations held for hours and raw circuit ends; mixing them would make
 * relay traffic fill the peers' slots, and the relay greets first (`HELLO PYP2P-CIRCUIT/1`).
 */
import { CircuitRelay, RelayListener } from '@pyp2p/relay'
import type { ForwardingType, NodeType } from '@pyp2p/unl'
import type createDebug from 'debug'
import { NetError } from './errors.js'
import { forwardPort } from './forwarding.js'
import type { ResolvedNetOptions } from './options.js'

export interface ServedRelay {
  readonly relay: CircuitRelay
  /** Where others reserve and dial: the node's WAN address, the relay's (mapped) port. */
  readonly address: { host: string; port: number }
  /** Ends its circuits and reservations, closes the port, removes the mapping. Never rejects. */
  close(): Promise<void>
}

/** What start() knows of the node when the relay is considered. */
export interface RelayHostNode {
  nodeType: NodeType
  forwarding: ForwardingType
  /** The address others dial this node at. */
  host: string
}

/**
 * Serves the relay when asked and the node is passive. Resolves with the relay (or none) and one
 * sentence for the start report; rejects with `ERR_LISTEN_FAILED` when the relay's port cannot be
 * bound (a configuration error the user asked for), or `ERR_ABORTED`.
 */
export async function serveRelay(
  o: ResolvedNetOptions,
  node: RelayHostNode,
  signal: AbortSignal,
  log: createDebug.Debugger,
): Promise<{ served: ServedRelay | undefined; reason: string }> {
  if (node.nodeType !== 'passive')
    return {
      served: undefined,
      reason: `circuit relay not served: node type ${node.nodeType} (only a passive node can be reached by those that would reserve)`,
    }
  if (node.host === '')
    return { served: undefined, reason: 'circuit relay not served: our address others dial is unknown' }
  if (signal.aborted) throw NetError.ABORTED(signal.reason)
  const relay = new CircuitRelay(o.circuitRelay.limits)
  const listener = new RelayListener(relay)
  let release = async (): Promise<void> => {}
  const close = async (): Promise<void> => {
    relay.close()
    await Promise.all([
      listener.close(),
      release().catch((err: unknown) => log('removing the relay port mapping: %s', err)),
    ])
  }
  let port: number
  try {
    port = (await listener.listen({ host: o.passiveBind, port: o.circuitRelay.servePort })).port
  } catch (err) {
    relay.close()
    throw NetError.LISTEN_FAILED(o.passiveBind, o.circuitRelay.servePort, err)
  }
  let host = node.host
  let external = port
  let note = ''
  if (node.forwarding === 'upnp' || node.forwarding === 'natpmp') {
    try {
      const m = await forwardPort(o, port, (r) => {
        release = r
      }).forward(signal)
      external = m.externalPort
      host = m.externalAddress ?? host
      note = ` (${m.method} mapped port ${port} to ${external})`
    } catch (err) {
      await close()
      if (signal.aborted) throw NetError.ABORTED(signal.reason)
      return {
        served: undefined,
        reason: `circuit relay not served: mapping its port ${port} failed: ${(err as Error).message}`,
      }
    }
  } else if (node.forwarding === 'manual') {
    note = ` (forward port ${port} as you forwarded the node's)`
  }
  const address = { host, port: external }
  log('circuit relay served at %s:%d%s', host, external, note)
  return {
    served: { relay, address, close },
    reason: `circuit relay served at ${hostPort(address)}${note}`,
  }
}

export const hostPort = (a: { host: string; port: number }): string =>
  a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
