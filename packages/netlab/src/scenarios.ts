// Named topologies for the `lab` CLI (and for tests that want a ready-made one).
import type { LabSpec } from './types.js'

export const SCENARIOS = {
  /** two hosts behind two port-preserving NATs that answer unsolicited SYNs with RST */
  'two-cone': {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone' }, r2: { nat: 'cone' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** the same behind routers that drop unsolicited SYNs (RFC 5382 REQ-4) */
  'two-cone-drop': {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone', inbound: 'drop' }, r2: { nat: 'cone', inbound: 'drop' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** one host behind a cone NAT with miniupnpd (IGD v2 + NAT-PMP), one behind a plain cone NAT */
  'cone-upnp': {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone', upnp: 'igd2+natpmp' }, r2: { nat: 'cone' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** two cone NATs, each with miniupnpd (IGD v2 + NAT-PMP): the topology the 5-second budget is about */
  'two-upnp': {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone', upnp: 'igd2+natpmp' }, r2: { nat: 'cone', upnp: 'igd2+natpmp' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** a cone NAT and a symmetric (random port per destination) NAT */
  symmetric: {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone' }, r2: { nat: 'symmetric', inbound: 'drop' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** a sequential (predictable port step) NAT and a cone NAT */
  sequential: {
    publicHosts: { bootstrap: {} },
    routers: { r1: { nat: 'cone' }, r2: { nat: 'sequential' } },
    hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
  },
  /** alice behind two NATs (inner behind outer), bob and carol on the outer router's LAN */
  'double-nat': {
    publicHosts: { bootstrap: {} },
    routers: { outer: { nat: 'cone', upnp: 'igd2+natpmp' }, inner: { nat: 'cone', behind: 'outer' } },
    hosts: { alice: { router: 'inner' }, bob: { router: 'outer' }, carol: { router: 'outer' } },
  },
  /** one router per miniupnpd mode, one host behind each */
  'all-upnp': {
    publicHosts: { bootstrap: {} },
    routers: {
      igd2pmp: { nat: 'cone', upnp: 'igd2+natpmp' },
      igd2: { nat: 'cone', upnp: 'igd2' },
      igd1: { nat: 'cone', upnp: 'igd1' },
      natpmp: { nat: 'cone', upnp: 'natpmp' },
    },
    hosts: {
      h1: { router: 'igd2pmp' },
      h2: { router: 'igd2' },
      h3: { router: 'igd1' },
      h4: { router: 'natpmp' },
    },
  },
} satisfies Record<string, LabSpec>

export type ScenarioName = keyof typeof SCENARIOS

export function isScenario(name: string): name is ScenarioName {
  return Object.hasOwn(SCENARIOS, name)
}
