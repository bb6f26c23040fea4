// IPv6 pinholes by PCP against miniupnpd 2.3.1 on a router that routes IPv6 (no NAT, a stateful
// firewall): `map({ family: 6 })` opens our own address and port, the internet host connects over
// IPv6, and the pinhole is gone again after SIGTERM.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, connectFrom, PCP_IPV6_LAB, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()
const HELLO = 'hello from behind the NAT'

/** The pinhole rules miniupnpd holds in the router's forward chain, one line each. */
async function pinholes(lab: Lab, router: string): Promise<string[]> {
  const r = await lab.exec(router, ['nft', 'list', 'chain', 'inet', 'filter', 'miniupnpd'])
  return r.stdout.split('\n').filter((l) => /dport/.test(l))
}

describe.skipIf(!ready.ok)(
  'IPv6 pinholes by PCP (miniupnpd on an IPv6 router)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab(PCP_IPV6_LAB)
    })
    afterAll(() => lab?.close())

    it('maps our IPv6 address, the internet connects through the pinhole, SIGTERM closes it', async () => {
      const alice6 = lab.host('alice').ip6
      expect(alice6).toBeDefined()
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { family: 6, ttl: 600 } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({
          method: 'pcp',
          family: 6,
          gateway: lab.router('r1').lanIp6,
          internalAddress: alice6,
          externalAddress: alice6,
          externalPort: mapping.internalPort,
        })
        expect((await pinholes(lab, 'r1')).join('\n')).toContain(`dport ${mapping.internalPort}`)
        expect(await connectFrom(lab, 'net', alice6 as string, mapping.internalPort)).toBe(HELLO)
        p.kill('SIGTERM')
        expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
        expect(await pinholes(lab, 'r1')).toEqual([])
        // without the pinhole the router's firewall drops the SYN: the connection cannot be made
        expect(await connectFrom(lab, 'net', alice6 as string, mapping.internalPort)).toMatch(/^failed/)
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
    })

    it('IPv4 keeps working beside it: a PCP mapping on the NAT', async () => {
      const p = lab.spawnNode('alice', AGENT, ['hold', JSON.stringify({ map: { ttl: 600 } })])
      try {
        const { mapping } = await waitEvent(p, 'mapped')
        expect(mapping).toMatchObject({ method: 'pcp', family: 4, externalAddress: lab.router('r1').wanIp })
        expect(await connectFrom(lab, 'net', mapping.externalAddress, mapping.externalPort)).toBe(HELLO)
      } finally {
        p.kill('SIGTERM')
        await p.exited
      }
      expect(await lab.upnpMappings('r1')).toEqual([])
    })
  },
  120_000,
)
