import { describe, expect, it } from 'vitest'
import { NetlabError } from '../src/errors.js'
import { planLab } from '../src/plan.js'
import { routerRuleset, routerSysctls } from '../src/ruleset.js'
import { SCENARIOS } from '../src/scenarios.js'
import { nsBatch, rootBatch } from '../src/setup-script.js'

describe('planLab', () => {
  const plan = planLab(
    {
      publicHosts: { s1: {}, s2: {} },
      routers: { inner: { nat: 'cone', behind: 'outer' }, outer: { nat: 'symmetric' } },
      hosts: { a: { router: 'inner' }, b: { router: 'outer' }, c: { router: 'outer' } },
    },
    'nl1-abcd',
  )
  const node = (n: string) => plan.byName.get(n)

  it('puts the internet first and every parent before its children', () => {
    const order = plan.nodes.map((n) => n.name)
    expect(order[0]).toBe('internet')
    for (const n of plan.nodes) {
      if (n.parent) expect(order.indexOf(n.parent)).toBeLessThan(order.indexOf(n.name))
    }
  })

  it('assigns internet, WAN and LAN addresses', () => {
    expect(node('internet')?.ip).toBe('11.0.0.1')
    expect([node('s1')?.ip, node('s2')?.ip]).toEqual(['11.0.0.10', '11.0.0.11'])
    expect(node('outer')).toMatchObject({ ip: '11.0.0.100', lanIp: '10.2.0.1', lanSubnet: '10.2.0.0/24' })
    // LANs are numbered in declaration order; inner sits on outer's LAN
    expect(node('inner')).toMatchObject({ ip: '10.2.0.2', gateway: '10.2.0.1', lanIp: '10.1.0.1' })
    expect(node('a')).toMatchObject({ ip: '10.1.0.2', gateway: '10.1.0.1', parent: 'inner' })
    expect([node('b')?.ip, node('c')?.ip]).toEqual(['10.2.0.3', '10.2.0.4'])
    expect(node('s1')?.gateway).toBeUndefined()
    expect(node('outer')?.gateway).toBeUndefined()
  })

  it('names every namespace with the prefix; veths are created inside their namespaces', () => {
    for (const n of plan.nodes) expect(n.ns).toBe(`nl1-abcd-${n.name}`)
    const batch = rootBatch(plan)
    expect(batch).toContain('link add eth0 netns nl1-abcd-a type veth peer name p0 netns nl1-abcd-inner')
    for (const line of batch.trim().split('\n')) {
      expect(line).toMatch(
        /^netns add nl1-abcd-\w+$|^link add \w+ netns nl1-abcd-\w+ type veth peer name p\d+ netns nl1-abcd-\w+$/,
      )
    }
    expect(nsBatch(plan, plan.nodes[0]!)).toContain('link set p0 master br0')
  })

  it.each([
    [{ hosts: { a: { router: 'nope' } } }, /not a router/],
    [{ routers: { r: { nat: 'cone', behind: 'x' } } }, /not a router/],
    [{ routers: { r: { nat: 'cone', behind: 's' }, s: { nat: 'cone', behind: 'r' } } }, /cycle/],
    [{ routers: { r: { nat: 'full-cone' } } }, /nat must be/],
    [{ routers: { r: { nat: 'cone', loss: 2 } } }, /loss/],
    [{ routers: { r: { nat: 'cone', conntrackTimeout: 0.5 } } }, /conntrackTimeout/],
    [{ routers: { r: { nat: 'cone', latencyMs: -1 } } }, /latencyMs/],
    [{ routers: { r: { nat: 'cone', latencyMs: 2.5 } } }, /latencyMs/],
    [{ routers: { r: { nat: 'cone', latencyMs: 60_000 } } }, /latencyMs/],
    [{ routers: { r: { nat: 'cone', upnp: 'igd3' } } }, /upnp must be/],
    [{ publicHosts: { internet: {} } }, /reserved/],
    [{ publicHosts: { x: {} }, routers: { x: { nat: 'cone' } } }, /used twice/],
    [{ publicHosts: { 'Bad Name': {} } }, /must match/],
  ])('rejects an invalid spec %#', (spec, message) => {
    expect(() => planLab(spec as never, 'p')).toThrow(NetlabError)
    expect(() => planLab(spec as never, 'p')).toThrow(message)
  })

  it('plans every CLI scenario', () => {
    for (const spec of Object.values(SCENARIOS)) expect(planLab(spec, 'p').nodes.length).toBeGreaterThan(2)
  })
})

describe('IPv6 (routers with ipv6: true)', () => {
  const plan = planLab(
    {
      publicHosts: { s1: {} },
      routers: { v4: { nat: 'cone' }, v6: { nat: 'cone', ipv6: true } },
      hosts: { a: { router: 'v4' }, b: { router: 'v6' } },
    },
    'nl1-abcd',
  )
  const node = (n: string) => plan.byName.get(n)

  it('gives the internet, public hosts, the router and its hosts IPv6; others keep IPv4 only', () => {
    expect(node('internet')).toMatchObject({
      ip6: 'fd11::1',
      routes6: [{ prefix: 'fd00:2::/64', via: 'fd11::101' }],
    })
    expect(node('s1')).toMatchObject({ ip6: 'fd11::10', gateway6: 'fd11::1' })
    expect(node('v6')).toMatchObject({ ip6: 'fd11::101', gateway6: 'fd11::1', lanIp6: 'fd00:2::1' })
    expect(node('b')).toMatchObject({ ip: '10.2.0.2', ip6: 'fd00:2::2', gateway6: 'fd00:2::1' })
    expect(node('v4')?.ip6).toBeUndefined()
    expect(node('a')?.ip6).toBeUndefined()
  })

  it('adds the addresses without DAD, the default routes and the internet routes; forwards IPv6', () => {
    expect(nsBatch(plan, node('b')!)).toContain(
      'addr add fd00:2::2/64 dev eth0 nodad\nroute add default via fd00:2::1',
    )
    expect(nsBatch(plan, node('v6')!)).toContain('addr add fd00:2::1/64 dev br0 nodad')
    expect(nsBatch(plan, node('internet')!)).toContain('route add fd00:2::/64 via fd11::101')
    expect(routerSysctls({ nat: 'cone', ipv6: true })).toContain('net.ipv6.conf.all.forwarding=1')
    expect(routerSysctls({ nat: 'cone' })).not.toContain('net.ipv6.conf.all.forwarding=1')
  })

  it('refuses ipv6 behind another router', () => {
    expect(() =>
      planLab({ routers: { o: { nat: 'cone' }, i: { nat: 'cone', behind: 'o', ipv6: true } } }, 'nl1-abcd'),
    ).toThrow(NetlabError)
  })
})

describe('router rulesets', () => {
  it('cone masquerades, symmetric randomises, sequential maps a counter to ports', () => {
    // IPv4 only: IPv6 (routers with `ipv6`) is routed, never translated
    expect(routerRuleset({ nat: 'cone' }, '11.0.0.100')).toMatch(
      /oifname "wan0" meta nfproto ipv4 masquerade\n/,
    )
    expect(routerRuleset({ nat: 'symmetric' }, '11.0.0.100')).toContain('masquerade fully-random')
    const seq = routerRuleset({ nat: 'sequential' }, '11.0.0.100')
    expect(seq).toContain('snat ip to 11.0.0.100 : numgen inc mod 1000 map { 0 : 20000, 1 : 20001,')
  })

  it('drop adds the SYN drop on the WAN; loss and conntrack timeouts are optional', () => {
    expect(routerRuleset({ nat: 'cone' }, 'x')).not.toContain('syn')
    expect(routerRuleset({ nat: 'cone', inbound: 'drop' }, 'x')).toContain(
      'iifname "wan0" tcp flags & (syn | ack) == syn counter drop',
    )
    expect(routerRuleset({ nat: 'cone', loss: 0.25 }, 'x')).toContain(
      'numgen random mod 1000000 < 250000 counter drop',
    )
    expect(routerRuleset({ nat: 'cone', loss: 1 }, 'x')).toMatch(/policy drop;\n\s+counter drop\n/)
    expect(routerSysctls({ nat: 'cone' })).toEqual(['net.ipv4.ip_forward=1'])
    expect(routerSysctls({ nat: 'cone', conntrackTimeout: 5 })).toContain(
      'net.netfilter.nf_conntrack_tcp_timeout_established=5',
    )
  })
})
