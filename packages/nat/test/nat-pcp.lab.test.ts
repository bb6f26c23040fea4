// PCP (RFC 6887) against miniupnpd 2.3.1, which answers it on the NAT-PMP port (enable_natpmp=yes):
// discovery, MAP, renewal at half-life, delete on stop, nothing left after SIGTERM, and after SIGKILL
// the mapping goes with its lease.
import { createLab, LAB_PCP_MIN_LIFETIME_S, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { AGENT, connectFrom, events, runAgent, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()
const HELLO = 'hello from behind the NAT'
/**
 * miniupnpd grants PCP mappings at least its `min_lifetime` whatever is asked (120 s by default, RFC
 * 6887 section 15's recommendation; the lab sets it short), so a renewal comes after half of it and a
 * lease runs out after all of it: the waits below allow for that plus miniupnpd's clean-up pass.
 */
const PCP_MIN_LIFETIME_S = LAB_PCP_MIN_LIFETIME_S
const LEASE_WAIT = (PCP_MIN_LIFETIME_S + 60) * 1000

describe.skipIf(!ready.ok)(
  'PCP on a NAT-PMP/PCP router (miniupnpd)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: { r1: { nat: 'cone', upnp: 'natpmp' }, r2: { nat: 'cone', upnp: 'igd2+natpmp' } },
        hosts: { alice: { router: 'r1' }, bob: { router: 'r2' } },
      })
    })
    afterAll(() => lab?.close())

    it('discovery finds PCP first and returns without waiting for SSDP', async () => {
      for (const [host, router] of [
        ['alice', 'r1'],
        ['bob', 'r2'],
      ] as const) {
        // Both protocols answer within milliseconds, but the default grace after the first answer
        // (25 ms) once missed NAT-PMP's under a full test run's load: a second lets both in, and still
        // ends discovery before the SSDP search would (2 s).
        const [ev] = await runAgent(lab, host, ['discover', JSON.stringify({ grace: 1_000 })])
        expect(ev?.gateways).toEqual([
          expect.objectContaining({
            address: lab.router(router).lanIp,
            protocols: expect.arrayContaining(['pcp', 'natpmp']),
            pcp: expect.objectContaining({ epoch: expect.any(Number) }),
          }),
        ])
        expect(ev?.gateways[0].protocols[0]).toBe('pcp')
      }
    })

    it('maps UDP by PCP', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 60, protocol: 'UDP' } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({ method: 'pcp', protocol: 'UDP' })
        expect(await lab.upnpMappings('r1')).toEqual([
          expect.objectContaining({ protocol: 'UDP', externalPort: mapping.externalPort }),
        ])
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('SIGTERM: the router table has no leftover', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 3600 } })])
      const { mapping } = await waitEvent(p, 'mapped')
      expect(await lab.upnpMappings('r1')).toEqual([
        expect.objectContaining({ externalPort: mapping.externalPort }),
      ])
      p.kill('SIGTERM')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it.concurrent('maps by PCP, forwards, renews at half-life with the same nonce, deletes on unmap', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 4 } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({
          method: 'pcp',
          externalAddress: lab.router('r1').wanIp,
          internalAddress: lab.host('alice').ip,
          ttl: PCP_MIN_LIFETIME_S,
        })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(HELLO)
        const table = await lab.upnpMappings('r1')
        expect(table).toEqual([
          expect.objectContaining({
            protocol: 'TCP',
            externalPort: mapping.externalPort,
            internalIp: lab.host('alice').ip,
            internalPort: mapping.internalPort,
            description: expect.stringMatching(/^PCP/),
          }),
        ])
        await waitEvent(p, 'renewed', 1, LEASE_WAIT)
        expect(events(p, 'mapping-error')).toEqual([])
        // still the one mapping, same port: the renewals kept it (same nonce), did not add new ones
        expect(await lab.upnpMappings('r1')).toEqual(table)
        p.kill('SIGUSR2')
        await waitEvent(p, 'unmapped')
        expect(await lab.upnpMappings('r1')).toEqual([])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toMatch(
          /^failed/,
        )
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
    })

    it.concurrent('SIGKILL: nothing can clean up, so the mapping goes when its lease ends', async () => {
      // nft announces the rule miniupnpd deletes when the lease runs out: wait for that event.
      const monitor = lab.spawn('r2', ['nft', 'monitor', 'rules'])
      try {
        const p = lab.spawnNode('bob', AGENT, ['hold', JSON.stringify({ map: { ttl: 4 } })])
        const { mapping } = await waitEvent(p, 'mapped')
        p.kill('SIGKILL')
        expect(await p.exited).toEqual({ code: null, signal: 'SIGKILL' })
        expect(await lab.upnpMappings('r2')).toEqual([
          expect.objectContaining({ externalPort: mapping.externalPort }),
        ])
        await monitor.waitForLine(/^delete rule/, { timeout: LEASE_WAIT })
        // miniupnpd deletes the mapping's rules, then rewrites its lease file (what upnpMappings reads):
        // read right after the first rule's deletion, the file could still list it. Wait for the file.
        await vi.waitFor(async () => expect(await lab.upnpMappings('r2')).toEqual([]), {
          timeout: 5_000,
          interval: 20,
        })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toMatch(
          /^failed/,
        )
      } finally {
        monitor.kill('SIGTERM')
        await monitor.exited
      }
    })
  },
  LEASE_WAIT + 60_000,
)
