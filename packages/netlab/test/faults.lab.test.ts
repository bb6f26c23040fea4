// Fault injection (src/faults.ts) on a real lab: a cut link drops everything silently and comes back
// intact; a router reboot loses its NAT state and its miniupnpd mappings and serves again.
import { describe, expect, it } from 'vitest'
import { createLab, cutLink, labReadiness, rebootRouter, restoreLink } from '../src/index.js'
import { observe, probe } from './helpers.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)('faults', () => {
  it('cutLink drops silently both ways, restoreLink brings the link back; rebootRouter forgets NAT state and mappings', async () => {
    await using lab = await createLab({
      publicHosts: { server: {} },
      routers: { r1: { nat: 'cone', inbound: 'drop', upnp: 'natpmp' } },
      hosts: { alice: { router: 'r1' } },
    })
    const server = lab.host('server')
    const { port } = await observe(lab, 'server')
    expect(await probe(lab, 'alice', server.ip, port)).toMatchObject({ ok: true })

    // a host's link: the SYN vanishes (a timeout, not a refusal or an unreachable)
    await cutLink(lab, 'alice')
    await cutLink(lab, 'alice') // idempotent
    expect(await probe(lab, 'alice', server.ip, port, { timeoutMs: 700 })).toEqual({
      ok: false,
      error: 'TIMEOUT',
    })
    await restoreLink(lab, 'alice')
    await restoreLink(lab, 'alice') // idempotent
    expect(await probe(lab, 'alice', server.ip, port)).toMatchObject({ ok: true })

    // a router's uplink: the same for everything behind it
    await cutLink(lab, 'r1')
    expect(await probe(lab, 'alice', server.ip, port, { timeoutMs: 700 })).toEqual({
      ok: false,
      error: 'TIMEOUT',
    })
    await restoreLink(lab, 'r1')
    expect(await probe(lab, 'alice', server.ip, port)).toMatchObject({ ok: true })

    // a reboot: a NAT-PMP mapping and the conntrack entries are gone, the router forwards again
    const map = await lab.exec('alice', [
      'natpmpc',
      '-g',
      lab.router('r1').lanIp,
      '-a',
      '4000',
      '4000',
      'tcp',
      '3600',
    ])
    expect(map.code).toBe(0)
    expect(await lab.upnpMappings('r1')).toHaveLength(1)
    expect((await lab.conntrack('r1')).length).toBeGreaterThan(0)
    await rebootRouter(lab, 'r1')
    expect(await lab.upnpMappings('r1')).toEqual([])
    expect((await lab.conntrack('r1')).filter((l) => l.includes(`dport=${port}`))).toEqual([])
    expect(await probe(lab, 'alice', server.ip, port)).toMatchObject({ ok: true })
  }, 90_000)
})
