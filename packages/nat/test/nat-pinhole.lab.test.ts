// IGD v2 IPv6 pinholes (WANIPv6FirewallControl:1) against miniupnpd 2.3.1 (Debian's build has the
// service) on a router that routes IPv6 behind a stateful firewall, with UPnP only (PCP refused):
// map({ family: 6 }) finds no PCP, searches the IGD over IPv6 and opens a pinhole; the internet
// connects through it; it is renewed at half-life (UpdatePinhole), re-opened after a router restart,
// and gone after SIGTERM, and after SIGKILL once its lease ran out.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, connectFrom, WAIT, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()
const HELLO = 'hello from behind the NAT'
/** Pinhole lease asked for, seconds: renewals every 2 s, expiry soon after a SIGKILL. */
const TTL = 4

/** The pinhole rules miniupnpd holds in the router's forward chain, one line each. */
async function pinholes(lab: Lab, router: string): Promise<string[]> {
  const r = await lab.exec(router, ['nft', 'list', 'chain', 'inet', 'filter', 'miniupnpd'])
  return r.stdout.split('\n').filter((l) => /dport/.test(l))
}

describe.skipIf(!ready.ok)(
  'IPv6 pinholes by UPnP IGD v2 (miniupnpd without PCP on an IPv6 router)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: { r1: { nat: 'cone', upnp: 'igd2', ipv6: true } },
        hosts: { alice: { router: 'r1' } },
      })
      // miniupnpd 2.3.1 answers PCP over IPv6 even with enable_natpmp=no (measured: the pinhole came
      // by PCP): refuse UDP 5351 over IPv6 in the router, as a router without PCP does (port unreachable)
      const table = ['inet', 'nopcp']
      for (const cmd of [
        ['add', 'table', ...table],
        ['add', 'chain', ...table, 'input', '{ type filter hook input priority -10 ; }'],
        ['add', 'rule', ...table, 'input', 'meta', 'nfproto', 'ipv6', 'udp', 'dport', '5351', 'reject'],
      ]) {
        const r = await lab.exec('r1', ['nft', ...cmd])
        if (r.code !== 0) throw new Error(`nft ${cmd.join(' ')}: ${r.stderr}`)
      }
    })
    afterAll(() => lab?.close())

    it('AddPinhole after PCP is refused; reachable over IPv6; UpdatePinhole at half-life; SIGTERM deletes it', async () => {
      const alice6 = lab.host('alice').ip6 as string
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { family: 6, ttl: TTL } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({
          method: 'upnp',
          family: 6,
          gateway: lab.router('r1').lanIp6,
          internalAddress: alice6,
          externalAddress: alice6,
          externalPort: mapping.internalPort,
          ttl: TTL,
          pinholeId: expect.any(Number),
        })
        expect((await pinholes(lab, 'r1')).join('\n')).toContain(`dport ${mapping.internalPort}`)
        expect(await connectFrom(lab, 'net', alice6, mapping.internalPort)).toBe(HELLO)
        const { mapping: renewed } = await waitEvent(p, 'renewed', 1, WAIT)
        expect(renewed).toMatchObject({ method: 'upnp', pinholeId: mapping.pinholeId })
        p.kill('SIGTERM')
        expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
        expect(await pinholes(lab, 'r1')).toEqual([])
        expect(await connectFrom(lab, 'net', alice6, mapping.internalPort)).toMatch(/^failed/)
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
    })

    it('a router restart loses the pinhole: the renewal opens it again (mapping:restored)', async () => {
      const alice6 = lab.host('alice').ip6 as string
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { family: 6, ttl: TTL } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        await lab.restartUpnp('r1')
        expect(await pinholes(lab, 'r1')).toEqual([])
        const { mapping: back } = await waitEvent(p, 'restored', 1, WAIT)
        expect(back).toMatchObject({ method: 'upnp', family: 6, externalPort: mapping.internalPort })
        expect((await pinholes(lab, 'r1')).join('\n')).toContain(`dport ${mapping.internalPort}`)
        expect(await connectFrom(lab, 'net', alice6, mapping.internalPort)).toBe(HELLO)
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
      expect(await pinholes(lab, 'r1')).toEqual([])
    })

    it('SIGKILL leaves the pinhole to its lease: miniupnpd removes it when the lease ends', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { family: 6, ttl: TTL } })])
      const { mapping } = await waitEvent(p, 'mapped')
      // nft's own event stream says when miniupnpd deletes the rule: waited for, not timed. The lease
      // (TTL s from the grant just made) leaves the monitor seconds to start.
      const monitor = lab.spawn('r1', ['nft', 'monitor', 'rules'])
      try {
        p.kill('SIGKILL')
        await p.exited
        expect((await pinholes(lab, 'r1')).join('\n')).toContain(`dport ${mapping.internalPort}`)
        await monitor.waitForLine(/delete rule inet filter miniupnpd/, { timeout: WAIT })
      } finally {
        monitor.kill()
        await monitor.exited
      }
      expect(await pinholes(lab, 'r1')).toEqual([])
    })
  },
  120_000,
)
