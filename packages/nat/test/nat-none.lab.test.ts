// A router with no UPnP and no NAT-PMP: discovery ends at its timeout, map() fails with ERR_NO_GATEWAY.
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runAgent } from './helpers/lab.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)(
  'router without UPnP or NAT-PMP',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        routers: { r1: { nat: 'cone', upnp: 'none' } },
        hosts: { alice: { router: 'r1' } },
      })
    })
    afterAll(() => lab?.close())

    it('discovery answers with no gateway when its timeout ends', async () => {
      const [ev] = await runAgent(lab, 'alice', ['discover', JSON.stringify({ timeout: 1500 })])
      expect(ev).toMatchObject({ event: 'gateways', gateways: [] })
    })

    it('map() fails with a clear ERR_NO_GATEWAY', async () => {
      const evs = await runAgent(lab, 'alice', ['hold', JSON.stringify({ client: { timeout: 1500 } })])
      const err = evs.find((e) => e.event === 'error')
      expect(err).toMatchObject({ code: 'ERR_NO_GATEWAY' })
      expect(err?.message).toMatch(/within 1500 ms on eth0/)
      expect(err?.message).toMatch(/Enable UPnP or NAT-PMP/)
    })
  },
  60_000,
)
