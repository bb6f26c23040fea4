// The shell script that configures one namespace: links and addresses (`ip -batch`), the router's
// ruleset (`nft -f`) and sysctls, run as one `ip netns exec <ns> sh -ec <script>` so all namespaces
// are configured in parallel with one process each.
import { IF_BRIDGE, INTERNET_NODE, SUBNET_BITS, SUBNET6_BITS } from './constants.js'
import type { LabPlan, PlannedNode } from './plan.js'
import { routerRuleset, routerSysctls } from './ruleset.js'

const EOF_MARK = 'NETLAB_EOF'

/** `ip -batch` lines run in the root namespace: every namespace, and every veth pair created directly
 * inside its two namespaces (so no lab link ever exists in the host's own namespace). */
export function rootBatch(plan: LabPlan): string {
  const lines: string[] = plan.nodes.map((n) => `netns add ${n.ns}`)
  for (const n of plan.nodes) {
    if (n.parent === undefined || n.uplinkIf === undefined || n.parentPort === undefined) continue
    const parent = plan.byName.get(n.parent)
    if (!parent) continue
    lines.push(`link add ${n.uplinkIf} netns ${n.ns} type veth peer name ${n.parentPort} netns ${parent.ns}`)
  }
  return `${lines.join('\n')}\n`
}

/** `ip -batch` lines for inside one namespace. */
export function nsBatch(plan: LabPlan, node: PlannedNode): string {
  const lines = ['link set lo up']
  const children = plan.nodes.filter((c) => c.parent === node.name)
  if (node.kind === 'internet' || node.kind === 'router') {
    const bridgeIp = node.kind === 'internet' ? node.ip : node.lanIp
    lines.push(`link add ${IF_BRIDGE} type bridge`)
    lines.push(`addr add ${bridgeIp}/${SUBNET_BITS} dev ${IF_BRIDGE}`)
    // nodad: the address is usable at once (duplicate address detection would hold it ~1 s)
    const bridgeIp6 = node.kind === 'internet' ? node.ip6 : node.lanIp6
    if (bridgeIp6 !== undefined) lines.push(`addr add ${bridgeIp6}/${SUBNET6_BITS} dev ${IF_BRIDGE} nodad`)
    lines.push(`link set ${IF_BRIDGE} up`)
    for (const c of children) {
      lines.push(`link set ${c.parentPort} master ${IF_BRIDGE}`)
      lines.push(`link set ${c.parentPort} up`)
    }
  }
  if (node.uplinkIf !== undefined) {
    lines.push(`addr add ${node.ip}/${SUBNET_BITS} dev ${node.uplinkIf}`)
    lines.push(`link set ${node.uplinkIf} up`)
    if (node.gateway !== undefined) lines.push(`route add default via ${node.gateway}`)
    if (node.ip6 !== undefined) lines.push(`addr add ${node.ip6}/${SUBNET6_BITS} dev ${node.uplinkIf} nodad`)
    if (node.gateway6 !== undefined) lines.push(`route add default via ${node.gateway6}`)
  }
  for (const r of node.routes6 ?? []) lines.push(`route add ${r.prefix} via ${r.via}`)
  return `${lines.join('\n')}\n`
}

export function nsScript(plan: LabPlan, node: PlannedNode): string {
  // bridged frames must not pass the router's ip filter hooks (br_netfilter is built into some
  // kernels and on by default in new namespaces): LAN hosts talk to each other at layer 2
  const sysctls = [
    'net.bridge.bridge-nf-call-iptables=0',
    'net.bridge.bridge-nf-call-ip6tables=0',
    'net.bridge.bridge-nf-call-arptables=0',
  ]
  const parts = [`ip -batch - <<'${EOF_MARK}'\n${nsBatch(plan, node)}${EOF_MARK}`]
  if (node.kind === 'router' && node.router) {
    parts.push(`nft -f - <<'${EOF_MARK}'\n${routerRuleset(node.router, node.ip)}${EOF_MARK}`)
    sysctls.push(...routerSysctls(node.router))
  } else {
    // hosts and the internet route nothing (new namespaces inherit ip_forward from the host's)
    sysctls.push('net.ipv4.ip_forward=0')
    // ...except IPv6 in the internet, which routes between the public hosts and the routers' LANs
    if (node.routes6 !== undefined) sysctls.push('net.ipv6.conf.all.forwarding=1')
  }
  // -e: the bridge keys are absent where br_netfilter is not loaded
  parts.push(`sysctl -q -e -w ${sysctls.join(' ')}`)
  return `${parts.join('\n')}\n`
}

export function isInternet(node: PlannedNode): boolean {
  return node.name === INTERNET_NODE
}
