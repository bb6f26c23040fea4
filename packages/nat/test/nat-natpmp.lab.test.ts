// miniupnpd with UPnP off: NAT-PMP (RFC 6886) and PCP (RFC 6887, which nat-pcp.lab.test.ts covers);
// the clients here are told to map with NAT-PMP.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, ALL_PROTOCOLS, CLI, connectFrom, events, runAgent, WAIT, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()
const NATPMP = { methods: ['natpmp'] }

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

    it('discovers the gateway speaking PCP and NAT-PMP', async () => {
      // Both answer within milliseconds; the default 25 ms grace after the first answer can miss the
      // second under a full test run's load: a second lets both in.
      const [ev] = await runAgent(lab, 'alice', ['discover', JSON.stringify({ grace: 1_000 })])
      expect(ev?.gateways).toEqual([
        expect.objectContaining({
          address: lab.router('r1').lanIp,
          protocols: ['pcp', 'natpmp'],
          natpmp: expect.objectContaining({ externalAddress: lab.router('r1').wanIp }),
        }),
      ])
    })

    it('maps, forwards, shows in the router table, renews twice, unmaps', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ client: NATPMP, map: { ttl: 4 } })])
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

    it('CLI: map --no-hold takes NAT-PMP (a PCP mapping could not be removed later), unmap removes it', async () => {
      const cli = async (...args: string[]) => {
        const p = lab.spawnNode('alice', CLI, [...args, '--json'])
        return { exit: await p.exited, out: p.stdout() }
      }
      const mapped = await cli('map', '45681', '--no-hold', '--ttl', '600')
      expect(mapped.exit.code).toBe(0)
      expect(JSON.parse(mapped.out).mapping).toMatchObject({ method: 'natpmp', externalPort: 45681 })
      expect(await lab.upnpMappings('r1')).toEqual([expect.objectContaining({ externalPort: 45681 })])
      expect((await cli('unmap', '45681')).exit.code).toBe(0)
      expect(await lab.upnpMappings('r1')).toEqual([])
    })

    it('natpmpc (the reference client) sees the same external address', async () => {
      const r = await lab.exec('alice', ['natpmpc', '-g', lab.router('r1').lanIp], { timeout: WAIT })
      expect(r.stdout).toContain(`Public IP address : ${lab.router('r1').wanIp}`)
    })

    it('status says listing is not possible over NAT-PMP; SIGTERM leaves no mapping', async () => {
      const status = await runAgent(lab, 'alice', ['status', ALL_PROTOCOLS])
      expect(status.find((e) => e.event === 'list-error')).toMatchObject({ code: 'ERR_NOT_SUPPORTED' })
      const p = lab.spawnNode('alice', AGENT, [
        'hold',
        JSON.stringify({ client: NATPMP, map: { ttl: 3600 } }),
      ])
      await waitEvent(p, 'mapped')
      expect(await lab.upnpMappings('r1')).toHaveLength(1)
      p.kill('SIGTERM')
      expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
      expect(await lab.upnpMappings('r1')).toEqual([])
    })
  },
  120_000,
)
