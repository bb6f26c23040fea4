// miniupnpd with UPnP off: NAT-PMP (RFC 6886) only.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, connectFrom, events, runAgent, WAIT, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)(
  'NAT-PMP-only router (miniupnpd)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: { r1: { nat: 'cone', upnp: 'natpmp' } },
        hosts: { alice: { router: 'r1' } },
      })
    })
    afterAll(() => lab?.close())

    it('discovers the gateway speaking NAT-PMP only', async () => {
      const [ev] = await runAgent(lab, 'alice', ['discover'])
      expect(ev?.gateways).toEqual([
        expect.objectContaining({
          address: lab.router('r1').lanIp,
          protocols: ['natpmp'],
          natpmp: expect.objectContaining({ externalAddress: lab.router('r1').wanIp }),
        }),
      ])
    })

    it('maps, forwards, shows in the router table, renews twice, unmaps', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 4 } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({ method: 'natpmp', externalAddress: lab.router('r1').wanIp, ttl: 4 })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
        // miniupnpd names NAT-PMP mappings itself ("NAT-PMP <port> tcp"): NAT-PMP carries no description.
        expect(await lab.upnpMappings('r1')).toEqual([
          expect.objectContaining({
            externalPort: mapping.externalPort,
            internalIp: lab.host('alice').ip,
            description: expect.stringMatching(/^NAT-PMP/),
          }),
        ])
        await waitEvent(p, 'renewed', 2)
        expect(events(p, 'mapping-error')).toEqual([])
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(
          'hello from behind the NAT',
        )
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

    it('natpmpc (the reference client) sees the same external address', async () => {
      const r = await lab.exec('alice', ['natpmpc', '-g', lab.router('r1').lanIp], { timeout: WAIT })
      expect(r.stdout).toContain(`Public IP address : ${lab.router('r1').wanIp}`)
    })

    it('status says listing is not possible over NAT-PMP; SIGTERM leaves no mapping', async () => {
      const status = await runAgent(lab, 'alice', ['status'])
      expect(status.find((e) => e.event === 'list-error')).toMatchObject({ code: 'ERR_NOT_SUPPORTED' })
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 3600 } })])
      await waitEvent(p, 'mapped')
      expect(await lab.upnpMappings('r1')).toHaveLength(1)
      p.kill('SIGTERM')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })
  },
  120_000,
)
