// Unsolicited PCP ANNOUNCE (RFC 6887 section 14.1.3) from real miniupnpd 2.3.1: restarted by the lab,
// it multicasts an ANNOUNCE with its new epoch to 224.0.0.1:5350 and [ff02::1]:5350 on its LAN. The
// client hears it and re-maps at once, before its next renewal, IPv4 mapping and IPv6 pinhole alike.
import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, connectFrom, events, PCP_IPV6_LAB, WAIT, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()
const HELLO = 'hello from behind the NAT'
/**
 * The client takes an ANNOUNCE for a restart when the epoch went back by more than a second (RFC 6887
 * section 8.5), so it must have heard an epoch of a few seconds before the restart: it hears one with
 * each renewal (every 6 s: the lab's miniupnpd grants at least 12 s).
 */
const MIN_EPOCH = 3

/** Waits for renewals until the last one was at a gateway epoch >= MIN_EPOCH (natpmpc reads it). */
async function untilEpoch(lab: Lab, p: LabProcess, router: string): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const r = await lab.exec('alice', ['natpmpc', '-g', lab.router(router).lanIp], { timeout: WAIT })
    const epoch = Number(/epoch = (\d+)/.exec(r.stdout)?.[1] ?? 0)
    await waitEvent(p, 'renewed', events(p, 'renewed').length + 1, WAIT)
    if (epoch >= MIN_EPOCH) return
  }
  throw new Error(`the gateway's epoch did not reach ${MIN_EPOCH}`)
}

describe.skipIf(!ready.ok)(
  'PCP ANNOUNCE after a router restart (miniupnpd 2.3.1)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab(PCP_IPV6_LAB)
    })
    afterAll(() => lab?.close())

    for (const family of [4, 6] as const) {
      it(`IPv${family}: the ANNOUNCE shows the restart and the mapping is back before the next renewal`, async () => {
        const { wanIp } = lab.router('r1')
        const p = lab.spawnNode('alice', AGENT, [
          'hold',
          // re-map at once (no random 0..5 s wait), so the re-map cannot be the renewal's doing
          JSON.stringify({ client: { pcpAnnounce: { maxDelayMs: 0 } }, map: { family, ttl: 12 } }),
        ])
        try {
          const { mapping } = await waitEvent(p, 'mapped')
          expect(mapping).toMatchObject({ method: 'pcp', family })
          await untilEpoch(lab, p, 'r1')
          const renewals = events(p, 'renewed').length
          await lab.restartUpnp('r1')
          const announce = await waitEvent(p, 'announce', 1, WAIT)
          expect(announce).toMatchObject({ gateway: mapping.gateway, restarted: true })
          expect(announce.epoch).toBeLessThan(MIN_EPOCH)
          const { mapping: back } = await waitEvent(p, 'restored', 1, WAIT)
          expect(back).toMatchObject({ method: 'pcp', family, externalPort: mapping.externalPort })
          // the restoration was the ANNOUNCE's doing: no renewal came in between
          expect(events(p, 'renewed').length).toBe(renewals)
          const to = family === 4 ? wanIp : (lab.host('alice').ip6 as string)
          expect(await connectFrom(lab, 'net', to, mapping.externalPort)).toBe(HELLO)
        } finally {
          p.kill('SIGTERM')
          await p.exited
        }
        expect(await lab.upnpMappings('r1')).toEqual([])
      })
    }
  },
  180_000,
)
