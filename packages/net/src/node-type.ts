/**
 * What kind of node this is, as the original's `start()` decided it, made explicit: given → as given;
 * reachable as it is → passive; else a port mapping (UPnP / NAT-PMP) that the probe does not refute →
 * passive; else a predictable NAT → simultaneous; else active. The original turned simultaneous into active
 * in a `p2p` net ("you can't do multiple TCP hole punches at the same time", its `net.py`); our punches
 * run concurrently, so a `p2p` net keeps simultaneous nodes and punches to them (issue 18).
 * Every step adds a sentence to `reasons`, so users see why.
 */

import { anySignal, plainAddress } from '@pyp2p/framing'
import type { ForwardingType, NatType, NodeType } from '@pyp2p/unl'
import { isLocalAddress } from './local-addresses.js'
import type { NetType } from './options.js'
import type { Reachability, ReachabilityProbe } from './reachability.js'

/** What a successful port mapping gave (from @pyp2p/nat). */
export interface ForwardedPort {
  method: 'upnp' | 'natpmp'
  externalAddress: string | null
  externalPort: number
}

export interface NodeTypeInput {
  netType: NetType
  nodeType: NodeType | undefined
  natType: NatType | undefined
  listen: { address: string; port: number }
  observed: { ip: string; port: number } | undefined
  probe: ReachabilityProbe
  /** Tries a port mapping; undefined when forwarding is off or not applicable (the reason says why). */
  forward: ((signal: AbortSignal) => Promise<ForwardedPort>) | undefined
  /**
   * Searches for gateways without mapping (run beside the reachability probe, so `forward` need not
   * wait for the search); its failure is ignored here and shows at `forward`.
   */
  prepareForward?: ((signal: AbortSignal) => Promise<void>) | undefined
  forwardSkipped: string | undefined
  /** Removes the mapping again (it did not make us reachable). */
  unforward: () => Promise<void>
  /**
   * Detects the NAT's behaviour through the bootstrap server; undefined without a server. `evidence`:
   * what the verdict came from (the ports seen), for the report's reason.
   */
  detectNat: ((signal: AbortSignal) => Promise<{ type: NatType; evidence?: string }>) | undefined
  signal: AbortSignal
}

export interface NodeTypeReport {
  nodeType: NodeType
  natType: NatType
  forwarding: ForwardingType
  /** The address others dial: the server's view of us, a mapping's external address, or '' when unknown. */
  wanAddress: string
  /** The public port when a mapping gave one different from the listening port. */
  externalPort: number | undefined
  reachability: Reachability
  /** One sentence per step taken, in order. */
  reasons: string[]
}

const PREDICTABLE: readonly NatType[] = ['preserving', 'delta', 'reuse']

/** A promise's outcome, never rejecting (a result awaited later, or never). */
type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown }
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  )

export async function determineNodeType(input: NodeTypeInput): Promise<NodeTypeReport> {
  const reasons: string[] = []
  const { observed, signal } = input
  const report: NodeTypeReport = {
    nodeType: 'active',
    natType: input.natType ?? 'unknown',
    forwarding: 'none',
    wanAddress: observed?.ip ?? '',
    externalPort: undefined,
    reachability: 'unknown',
    reasons,
  }
  if (input.nodeType !== undefined) {
    report.nodeType = input.nodeType
    reasons.push(`node type ${input.nodeType}: given by the nodeType option`)
    return finish(input, report)
  }

  // Behind a NAT (the server saw another address than ours), the gateway search and the NAT test start
  // now, beside the reachability probe: they only look, and such a node nearly always needs both, so it
  // no longer waits for the probe's timeout (a router that drops the server's SYN), then the search's,
  // then the NAT test's. A node that did not need them ends them, and start() waits until they have.
  const natted = observed !== undefined && !isLocalAddress(plainAddress(observed.ip))
  const ahead = new AbortController()
  const early = anySignal(signal, ahead.signal)
  const gateways =
    natted && input.forward !== undefined && input.prepareForward !== undefined
      ? settle(input.prepareForward(early))
      : undefined
  const nat =
    natted && input.natType === undefined && input.detectNat !== undefined
      ? settle(input.detectNat(early))
      : undefined
  try {
    return await decide(input, report, { gateways, nat })
  } finally {
    ahead.abort()
    await Promise.all([gateways, nat])
  }
}

async function decide(
  input: NodeTypeInput,
  report: NodeTypeReport,
  ahead: {
    gateways: Promise<Settled<void>> | undefined
    nat: Promise<Settled<{ type: NatType; evidence?: string }>> | undefined
  },
): Promise<NodeTypeReport> {
  const { listen, observed, signal, forward } = input
  const { reasons } = report
  const direct = await input.probe.check({
    host: report.wanAddress,
    port: listen.port,
    listen,
    observed,
    mapped: false,
    signal,
  })
  reasons.push(`reachability (${input.probe.name}): ${direct.reachable}: ${direct.reason}`)
  report.reachability = direct.reachable
  if (direct.reachable === 'reachable') {
    report.nodeType = 'passive'
    // The search's client, unused (it mapped nothing; a user's natClient was not touched by it).
    if (ahead.gateways !== undefined) await input.unforward()
    return finish(input, report)
  }

  if (forward === undefined) {
    reasons.push(`port forwarding not tried: ${input.forwardSkipped ?? 'disabled'}`)
  } else {
    try {
      await ahead.gateways // its failure shows in forward()'s
      const m = await forward(signal)
      const host = m.externalAddress ?? report.wanAddress
      const verdict = await input.probe.check({
        host,
        port: m.externalPort,
        listen,
        observed,
        mapped: true,
        signal,
      })
      reasons.push(
        `port forwarding: ${m.method} mapped ${host}:${m.externalPort}; reachability: ${verdict.reachable}: ${verdict.reason}`,
      )
      if (verdict.reachable === 'unreachable') {
        await input.unforward()
      } else {
        // `unknown` is trusted: the router says it forwards, and nothing we can run here says otherwise.
        report.nodeType = 'passive'
        report.forwarding = m.method
        report.reachability = verdict.reachable
        report.wanAddress = host
        if (m.externalPort !== listen.port) report.externalPort = m.externalPort
        return finish(input, report)
      }
    } catch (err) {
      signal.throwIfAborted()
      reasons.push(`port forwarding failed: ${(err as Error).message}`)
    }
  }

  if (input.natType === undefined && input.detectNat !== undefined) {
    const nat = await (ahead.nat ?? settle(input.detectNat(signal)))
    signal.throwIfAborted()
    if (nat.ok) {
      report.natType = nat.value.type
      reasons.push(
        `NAT type ${report.natType}: detected through the bootstrap server` +
          (nat.value.evidence === undefined ? '' : ` (${nat.value.evidence})`),
      )
    } else {
      reasons.push(`NAT detection failed: ${(nat.error as Error).message}`)
    }
  }
  if (PREDICTABLE.includes(report.natType)) {
    report.nodeType = 'simultaneous'
    reasons.push(
      `node type simultaneous: the NAT is predictable (${report.natType}), so hole punching can work` +
        (input.netType === 'p2p'
          ? ': advertise() registers us so others punch to us, bootstrap() punches to listed simultaneous nodes'
          : ''),
    )
  } else {
    reasons.push(
      `node type active: the NAT is ${report.natType}, so neither listening nor punching is possible`,
    )
  }
  return finish(input, report)
}

function finish(input: NodeTypeInput, report: NodeTypeReport): NodeTypeReport {
  if (report.nodeType === 'passive' && report.reachability !== 'reachable') {
    report.reasons.push(`node type passive (reachability ${report.reachability})`)
  } else if (report.nodeType === 'passive' && input.nodeType === undefined) {
    report.reasons.push('node type passive: others can connect to our listening port')
  }
  return report
}
