// miniupnpd forced to IGD v1 (force_igd_desc_v1), UPnP only: what unpatched nat-upnp already handled.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  AGENT,
  ALL_PROTOCOLS,
  connectFrom,
  events,
  runAgent,
  upnpcList,
  WAIT,
  waitEvent,
} from './helpers/lab.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)(
  'UPnP IGD v1 router (miniupnpd)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: { r1: { nat: 'cone', upnp: 'igd1' } },
        hosts: { alice: { router: 'r1' } },
      })
    })
    afterAll(() => lab?.close())

    it('discovers the gateway speaking IGD v1 only', async () => {
      const [ev] = await runAgent(lab, 'alice', ['discover'])
      expect(ev?.gateways).toEqual([
        expect.objectContaining({
          address: lab.router('r1').lanIp,
          protocols: ['upnp-igd1'],
          upnp: expect.objectContaining({ serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:1' }),
        }),
      ])
    })

    it('maps, forwards, lists with our description, renews twice, unmaps', async () => {
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ map: { ttl: 4, description: 'pyp2p-igd1-test' } }),
      ])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({ method: 'upnp', externalAddress: lab.router('r1').wanIp, ttl: 4 })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        expect(await upnpcList(lab, 'alice', 'r1')).toMatch(
          new RegExp(
            `TCP\\s+${mapping.externalPort}->${lab.host('alice').ip}:${mapping.internalPort}\\s+'pyp2p-igd1-test'`,
          ),
        )
        await waitEvent(p, 'renewed', 2)
        expect(events(p, 'mapping-error')).toEqual([])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        p.kill('SIGUSR2')
        await waitEvent(p, 'unmapped')
        expect(await upnpcList(lab, 'alice', 'r1')).not.toMatch(/pyp2p-igd1-test/)
        expect(await lab.upnpMappings('r1')).toEqual([])
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
    })

    it('puts back a mapping the router lost (deleted behind our back) at the next renewal', async () => {
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ map: { ttl: 4, description: 'pyp2p-lost' } }),
      ])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        const url = lab.router('r1').upnpUrl as string
        const del = await lab.exec('alice', ['upnpc', '-u', url, '-d', String(mapping.externalPort), 'TCP'], {
          timeout: WAIT,
        })
        expect(del.code).toBe(0)
        expect(await lab.upnpMappings('r1')).toEqual([])
        const { mapping: restored } = await waitEvent(p, 'restored')
        expect(restored).toMatchObject({ externalPort: mapping.externalPort })
        expect(await lab.upnpMappings('r1')).toEqual([expect.objectContaining({ description: 'pyp2p-lost' })])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('status lists the table; a child killed with SIGTERM leaves no mapping behind', async () => {
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ map: { ttl: 3600, description: 'pyp2p-sigterm' } }),
      ])
      const { mapping } = await waitEvent(p, 'mapped')
      const status = await runAgent(lab, 'alice', ['status', ALL_PROTOCOLS])
      expect(status.find((e) => e.event === 'list')?.entries).toEqual([
        expect.objectContaining({
          externalPort: mapping.externalPort,
          description: 'pyp2p-sigterm',
          own: false,
        }),
      ])
      p.kill('SIGTERM')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })
  },
  120_000,
)
