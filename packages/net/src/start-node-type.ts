/**
 * `net.start()`'s step 4: the node type (and port forwarding, the NAT type) with reasons. Without a
 * bootstrap server the node takes the type it was given, else passive (reachable on the LAN); with one,
 * node-type.ts decides from the server's view, its dial-back probe, a port mapping and the NAT test.
 */
import type { NodeIdentity } from '@pyp2p/identity'
import { detectInbound, detectNat, type NatBehaviour, type RendezvousSession } from '@pyp2p/punch'
import type { DialBackListener } from './dial-back-listener.js'
import { forwardPort } from './forwarding.js'
import { isLoopback } from './local-addresses.js'
import { determineNodeType, type NodeTypeReport } from './node-type.js'
import type { ResolvedNetOptions } from './options.js'
import { ServerDialBackProbe } from './server-dial-back-probe.js'

export interface NodeTypeStep {
  session: RendezvousSession | undefined
  nodeId: string
  /** Proves `nodeId` to the server (signed commands), when the id is the key's. */
  proof: { identity?: NodeIdentity }
  listen: { address: string; port: number }
  dialBacks: DialBackListener
  /** Keeps the mapping's release (start() hands it to the Net's `stop()`). */
  forwarding: { releaseForwarding?: () => Promise<void> }
}

/** The node's type and reasons, and the NAT's behaviour when it was tested. */
export async function nodeTypeOf(
  o: ResolvedNetOptions,
  step: NodeTypeStep,
  signal: AbortSignal,
): Promise<{ typeReport: NodeTypeReport; behaviour: NatBehaviour | undefined }> {
  const { session, nodeId, proof, listen, forwarding: res } = step
  let behaviour: NatBehaviour | undefined
  const forwardSkipped = !o.enableForwarding
    ? 'disabled (enableForwarding: false)'
    : isLoopback(o.passiveBind)
      ? `passiveBind ${o.passiveBind} is a loopback address`
      : undefined
  const server = session?.server
  if (session === undefined) {
    const nodeType = o.nodeType ?? 'passive'
    const typeReport: NodeTypeReport = {
      nodeType,
      natType: o.natType ?? 'unknown',
      forwarding: 'none',
      wanAddress: '',
      externalPort: undefined,
      reachability: 'unknown',
      reasons: [
        `node type ${nodeType}: no bootstrap server, so ${o.nodeType ? 'as given' : 'assumed reachable on the LAN'}`,
      ],
    }
    return { typeReport, behaviour }
  }
  const forwarding =
    forwardSkipped === undefined
      ? forwardPort(o, listen.port, (release) => {
          res.releaseForwarding = release
        })
      : undefined
  const typeReport = await determineNodeType({
    netType: o.netType,
    nodeType: o.nodeType,
    natType: o.natType,
    listen,
    observed: session.observed,
    probe:
      o.reachability ??
      new ServerDialBackProbe({
        server: () => session?.server,
        listener: step.dialBacks,
      }),
    forward: forwarding?.forward,
    prepareForward: forwarding?.prepare,
    forwardSkipped,
    unforward: async () => {
      await res.releaseForwarding?.()
      res.releaseForwarding = async () => {}
    },
    detectNat:
      server === undefined
        ? undefined
        : async (s) => {
            // The port tests only (no dial-back: it runs beside the reachability probe, and the
            // server rate-limits dial-backs per network); the inbound probe follows for a node that
            // will punch.
            behaviour = await detectNat({ server, nodeId, inbound: false, ...proof, signal: s })
            return { type: behaviour.type, evidence: natEvidence(behaviour) }
          },
    signal,
  })
  // The NAT test runs beside the reachability probe; a node that turned out passive did not use it.
  if (typeReport.natType === 'unknown' || behaviour === undefined) return { typeReport, behaviour: undefined }
  if (typeReport.nodeType === 'simultaneous' && server !== undefined) {
    // As @pyp2p/unl's RendezvousPuncher detects: the router's answer to unsolicited SYNs lets the
    // server fire a RST-router side first (see @pyp2p/punch's README). Undefined: not known.
    const inbound = await detectInbound({ server, nodeId, signal }).catch((err: unknown) => {
      signal.throwIfAborted()
      typeReport.reasons.push(`inbound probe failed: ${(err as Error).message}`)
      return undefined
    })
    typeReport.reasons.push(
      `router answer to unsolicited SYNs: ${inbound ?? 'unknown'} (the server dialled back)`,
    )
    if (inbound !== undefined) behaviour = { ...behaviour, inbound }
  }
  return { typeReport, behaviour }
}

/** The ports a NAT verdict came from, in the order seen: `local→external` (and the inbound policy). */
export function natEvidence(nat: NatBehaviour): string {
  const ports = nat.samples.map((x) => `${x.localPort}→${x.externalPort}`).join(' ')
  return `local→external ports ${ports}${nat.inbound === undefined ? '' : `; inbound ${nat.inbound}`}`
}
