// Turns a declarative LabSpec into a concrete plan: namespace names, links and addresses.
import {
  IF_BRIDGE,
  IF_PORT_PREFIX,
  IF_UPLINK_HOST,
  IF_UPLINK_ROUTER,
  INTERNET_GATEWAY_HOST,
  INTERNET_NODE,
  INTERNET_PREFIX,
  INTERNET6_PREFIX,
  LAN_FIRST_HOST,
  LAN_PREFIX_BYTE,
  LAN_ROUTER_HOST,
  LAN6_HEAD,
  LAST_HOST,
  MAX_LATENCY_MS,
  MAX_ROUTERS,
  NODE_NAME_PATTERN,
  PUBLIC_HOST_FIRST,
  PUBLIC_HOST_LAST,
  ROUTER_WAN_FIRST,
  SUBNET_BITS,
  SUBNET6_BITS,
} from './constants.js'
import { NetlabError } from './errors.js'
import type { LabSpec, RouterSpec, UpnpMode } from './types.js'

export type NodeKind = 'internet' | 'public' | 'router' | 'host'

export interface PlannedNode {
  name: string
  kind: NodeKind
  ns: string
  /** the node whose bridge this node's uplink is plugged into (undefined for the internet) */
  parent?: string
  /** uplink interface inside this node's namespace (eth0 for hosts, wan0 for routers) */
  uplinkIf?: string
  /** the uplink veth's other end, inside the parent's namespace, enslaved to its bridge */
  parentPort?: string
  /** address on the uplink (or on the bridge, for the internet) */
  ip: string
  /** default gateway (hosts behind a router, routers behind a router) */
  gateway?: string
  /** routers: the bridge address and subnet of their LAN */
  lanIp?: string
  lanSubnet?: string
  /** IPv6 (routers with `ipv6`, their hosts, the internet and public hosts when any router has it):
   * the address on the uplink (on the bridge, for the internet), the default gateway, a router's LAN
   * address, and the internet's routes to the routers' LANs */
  ip6?: string
  gateway6?: string
  lanIp6?: string
  routes6?: Array<{ prefix: string; via: string }>
  router?: RouterSpec
}

export interface LabPlan {
  prefix: string
  /** in creation order: the internet first, parents before children */
  nodes: PlannedNode[]
  byName: Map<string, PlannedNode>
}

const INBOUND = new Set(['rst', 'drop'])
const NAT = new Set(['cone', 'symmetric', 'sequential'])
const UPNP = new Set<UpnpMode>(['igd2+natpmp', 'igd2', 'igd1', 'natpmp', 'none'])

function checkName(name: string, taken: Set<string>): void {
  if (!NODE_NAME_PATTERN.test(name)) {
    throw NetlabError.INVALID_SPEC(`node name "${name}" must match ${NODE_NAME_PATTERN}`)
  }
  if (name === INTERNET_NODE) throw NetlabError.INVALID_SPEC(`"${INTERNET_NODE}" is reserved`)
  if (taken.has(name)) throw NetlabError.INVALID_SPEC(`node name "${name}" is used twice`)
  taken.add(name)
}

function checkRouter(name: string, r: RouterSpec): void {
  if (!NAT.has(r.nat))
    throw NetlabError.INVALID_SPEC(`router "${name}": nat must be cone|symmetric|sequential`)
  if (r.inbound !== undefined && !INBOUND.has(r.inbound)) {
    throw NetlabError.INVALID_SPEC(`router "${name}": inbound must be rst|drop`)
  }
  if (r.loss !== undefined && !(r.loss >= 0 && r.loss <= 1)) {
    throw NetlabError.INVALID_SPEC(`router "${name}": loss must be a probability in 0..1`)
  }
  if (
    r.conntrackTimeout !== undefined &&
    !(Number.isInteger(r.conntrackTimeout) && r.conntrackTimeout >= 1)
  ) {
    throw NetlabError.INVALID_SPEC(
      `router "${name}": conntrackTimeout must be a whole number of seconds >= 1`,
    )
  }
  if (
    r.latencyMs !== undefined &&
    !(Number.isInteger(r.latencyMs) && r.latencyMs >= 0 && r.latencyMs <= MAX_LATENCY_MS)
  ) {
    throw NetlabError.INVALID_SPEC(`router "${name}": latencyMs must be a whole number 0..${MAX_LATENCY_MS}`)
  }
  if (r.ipv6 !== undefined && typeof r.ipv6 !== 'boolean') {
    throw NetlabError.INVALID_SPEC(`router "${name}": ipv6 must be true or false`)
  }
  if (r.ipv6 === true && r.behind !== undefined) {
    throw NetlabError.INVALID_SPEC(`router "${name}": ipv6 is only for routers on the internet`)
  }
  if (r.upnp !== undefined && !UPNP.has(r.upnp)) {
    throw NetlabError.INVALID_SPEC(`router "${name}": upnp must be one of ${[...UPNP].join('|')}`)
  }
}

/** Validates the spec and assigns every namespace, link and address. Pure: touches nothing. */
export function planLab(spec: LabSpec, prefix: string): LabPlan {
  const taken = new Set<string>()
  const publicNames = Object.keys(spec.publicHosts ?? {})
  const routerEntries = Object.entries(spec.routers ?? {})
  const hostEntries = Object.entries(spec.hosts ?? {})
  for (const n of publicNames) checkName(n, taken)
  for (const [n, r] of routerEntries) {
    checkName(n, taken)
    checkRouter(n, r)
  }
  for (const [n] of hostEntries) checkName(n, taken)
  if (routerEntries.length > MAX_ROUTERS) throw NetlabError.INVALID_SPEC(`at most ${MAX_ROUTERS} routers`)
  const routers = new Map(routerEntries)
  for (const [n, r] of routerEntries) {
    if (r.behind !== undefined && !routers.has(r.behind)) {
      throw NetlabError.INVALID_SPEC(
        `router "${n}" is behind "${r.behind}", which is not a router of this lab`,
      )
    }
  }
  for (const [n, h] of hostEntries) {
    if (!routers.has(h.router)) {
      throw NetlabError.INVALID_SPEC(`host "${n}" is behind "${h.router}", which is not a router of this lab`)
    }
  }

  const nodes: PlannedNode[] = []
  const byName = new Map<string, PlannedNode>()
  const portCount = new Map<string, number>()
  const addrCount = new Map<string, number>()
  const add = (node: PlannedNode): void => {
    nodes.push(node)
    byName.set(node.name, node)
  }
  const nextPort = (parent: string): string => {
    const k = portCount.get(parent) ?? 0
    portCount.set(parent, k + 1)
    return `${IF_PORT_PREFIX}${k}`
  }
  // one counter per (subnet, first address): on the internet public hosts count from .10, routers from .100
  const nextAddr = (parent: string, first: number, last = LAST_HOST): number => {
    const key = `${parent}/${first}`
    const k = addrCount.get(key) ?? 0
    if (first + k > last) throw NetlabError.INVALID_SPEC(`too many nodes on the subnet of "${parent}"`)
    addrCount.set(key, k + 1)
    return first + k
  }
  const lanOf = new Map<string, number>()
  routerEntries.forEach(([n], i) => {
    lanOf.set(n, i + 1)
  })
  const lanAddr = (router: string, host: number): string =>
    `${LAN_PREFIX_BYTE}.${lanOf.get(router)}.0.${host}`
  const anyIpv6 = routerEntries.some(([, r]) => r.ipv6 === true)
  const lastByte = (ip: string) => ip.slice(ip.lastIndexOf('.') + 1)
  const internet6 = (ip: string) => `${INTERNET6_PREFIX}${lastByte(ip)}`
  const lan6 = (router: string, ip: string) => `${LAN6_HEAD}${lanOf.get(router)}::${lastByte(ip)}`
  const internetNode6 = `${INTERNET6_PREFIX}${INTERNET_GATEWAY_HOST}`

  add({
    name: INTERNET_NODE,
    kind: 'internet',
    ns: `${prefix}-${INTERNET_NODE}`,
    ip: `${INTERNET_PREFIX}${INTERNET_GATEWAY_HOST}`,
    ...(anyIpv6 ? { ip6: internetNode6, routes6: [] } : {}),
  })
  for (const name of publicNames) {
    const ip = `${INTERNET_PREFIX}${nextAddr(INTERNET_NODE, PUBLIC_HOST_FIRST, PUBLIC_HOST_LAST)}`
    add({
      name,
      kind: 'public',
      ns: `${prefix}-${name}`,
      parent: INTERNET_NODE,
      uplinkIf: IF_UPLINK_HOST,
      parentPort: nextPort(INTERNET_NODE),
      ip,
      ...(anyIpv6 ? { ip6: internet6(ip), gateway6: internetNode6 } : {}),
    })
  }
  // routers, parents first (a cycle of `behind` leaves routers unplaced)
  const placed = new Set<string>()
  while (placed.size < routerEntries.length) {
    const before = placed.size
    for (const [name, r] of routerEntries) {
      if (placed.has(name) || (r.behind !== undefined && !placed.has(r.behind))) continue
      const parent = r.behind ?? INTERNET_NODE
      const ip =
        r.behind === undefined
          ? `${INTERNET_PREFIX}${nextAddr(INTERNET_NODE, ROUTER_WAN_FIRST)}`
          : lanAddr(r.behind, nextAddr(r.behind, LAN_FIRST_HOST))
      const node: PlannedNode = {
        name,
        kind: 'router',
        ns: `${prefix}-${name}`,
        parent,
        uplinkIf: IF_UPLINK_ROUTER,
        parentPort: nextPort(parent),
        ip,
        lanIp: lanAddr(name, LAN_ROUTER_HOST),
        lanSubnet: `${lanAddr(name, 0)}/${SUBNET_BITS}`,
        router: r,
      }
      if (r.behind !== undefined) node.gateway = lanAddr(r.behind, LAN_ROUTER_HOST)
      if (r.ipv6 === true) {
        node.ip6 = internet6(ip)
        node.gateway6 = internetNode6
        node.lanIp6 = lan6(name, node.lanIp ?? '')
        byName
          .get(INTERNET_NODE)
          ?.routes6?.push({ prefix: `${LAN6_HEAD}${lanOf.get(name)}::/${SUBNET6_BITS}`, via: node.ip6 })
      }
      add(node)
      placed.add(name)
    }
    if (placed.size === before) throw NetlabError.INVALID_SPEC('routers are behind each other in a cycle')
  }
  for (const [name, h] of hostEntries) {
    const ip = lanAddr(h.router, nextAddr(h.router, LAN_FIRST_HOST))
    const router = byName.get(h.router)
    add({
      name,
      kind: 'host',
      ns: `${prefix}-${name}`,
      parent: h.router,
      uplinkIf: IF_UPLINK_HOST,
      parentPort: nextPort(h.router),
      ip,
      gateway: lanAddr(h.router, LAN_ROUTER_HOST),
      ...(router?.lanIp6 !== undefined ? { ip6: lan6(h.router, ip), gateway6: router.lanIp6 } : {}),
    })
  }
  return { prefix, nodes, byName }
}

/** The bridge every node's parent holds; exported for the link-level commands. */
export const BRIDGE = IF_BRIDGE
