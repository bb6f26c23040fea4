// Link latency for routers with `latencyMs` (this kernel has no netem qdisc): every packet that arrives
// on a router's WAN interface goes to an NFQUEUE queue in the `raw` table, before conntrack, NAT and the
// filter see it, and scripts/nfq-delay.py in the router's namespace holds each one `latencyMs` before
// accepting it: to the router, the packet arrives that much later, as over a long link. (Held later, in
// POSTROUTING, a packet would wait before its NAT mapping exists, which no real link does.) Why it
// matters: with no latency two SYNs of a hole punch must cross within microseconds, or the first one
// reaches the other router before its own SYN made a mapping there and is refused; over real links
// the two sides have the one-way latency to fire in.
import { fileURLToPath } from 'node:url'
import { inNetns, runOk } from './command.js'
import { IF_UPLINK_ROUTER, LATENCY_QUEUE, LATENCY_READY_TIMEOUT_MS } from './constants.js'
import type { PlannedNode } from './plan.js'
import type { ChildProcess } from './process.js'

/** The delay daemon (Python 3, standard library only), shipped beside the package's sources. */
export const NFQ_DELAY_SCRIPT = fileURLToPath(new URL('../scripts/nfq-delay.py', import.meta.url))

/**
 * Starts the delay daemon in `router`'s namespace, then queues its WAN ingress to it (in that order: a
 * queue without a reader drops its packets). Resolves with the daemon, which the lab ends at close.
 */
export async function startLatency(
  router: PlannedNode,
  latencyMs: number,
  start: (node: PlannedNode, argv: string[]) => ChildProcess,
  signal?: AbortSignal,
): Promise<ChildProcess> {
  const daemon = start(router, ['python3', NFQ_DELAY_SCRIPT, String(LATENCY_QUEUE), String(latencyMs)])
  await daemon.waitForLine(/^ready /, { timeout: LATENCY_READY_TIMEOUT_MS, ...(signal ? { signal } : {}) })
  const rule = ['-t', 'raw', '-A', 'PREROUTING', '-i', IF_UPLINK_ROUTER]
  await runOk(
    inNetns(router.ns, ['iptables', ...rule, '-j', 'NFQUEUE', '--queue-num', String(LATENCY_QUEUE)]),
    signal ? { signal } : {},
  )
  return daemon
}
