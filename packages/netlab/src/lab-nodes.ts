// What a lab shows of its plan: the hosts and routers of the public contract (types.ts), with their
// addresses and, for routers running miniupnpd, the UPnP description URL.
import { UPNP_HTTP_PORT } from './constants.js'
import { upnpFeatures } from './miniupnpd.js'
import type { LabPlan } from './plan.js'
import type { LabHost, LabRouter } from './types.js'

export function labNodes(plan: LabPlan): { hosts: LabHost[]; routers: LabRouter[] } {
  const hosts: LabHost[] = []
  const routers: LabRouter[] = []
  for (const n of plan.nodes) {
    if (n.kind === 'public' || n.kind === 'host') {
      hosts.push({
        name: n.name,
        ns: n.ns,
        ip: n.ip,
        ...(n.ip6 !== undefined ? { ip6: n.ip6 } : {}),
        ...(n.kind === 'host' ? { router: n.parent } : {}),
      })
    } else if (n.kind === 'router' && n.router && n.lanIp && n.lanSubnet) {
      const upnp = upnpFeatures(n.router.upnp ?? 'none').upnp
      routers.push({
        name: n.name,
        ns: n.ns,
        wanIp: n.ip,
        lanIp: n.lanIp,
        lanSubnet: n.lanSubnet,
        ...(n.ip6 !== undefined ? { wanIp6: n.ip6 } : {}),
        ...(n.lanIp6 !== undefined ? { lanIp6: n.lanIp6 } : {}),
        spec: Object.freeze({ ...n.router }),
        ...(upnp ? { upnpUrl: `http://${n.lanIp}:${UPNP_HTTP_PORT}/rootDesc.xml` } : {}),
      })
    }
  }
  return { hosts, routers }
}
