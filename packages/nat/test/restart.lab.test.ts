// "After a router restart (miniupnpd restarted, NAT-PMP epoch reset) mappings are put back": against
// real miniupnpd 2.3.1, restarted by the lab the way a reboot does it (lease file and nft rules gone).
import { createLab, LAB_PCP_MIN_LIFETIME_S, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AGENT, connectFrom, events, WAIT, waitEvent } from './helpers/lab.js'

const ready = await labReadiness()

/** Lease asked for, seconds: short, so the renewal that notices the restart (at half-time) comes soon,
 * long enough that a renewal late by up to 2 s on a busy machine still finds its lease alive. */
const TTL = 4
/**
 * RFC 6886 section 3.6: a client takes the gateway for restarted when its epoch is more than 2 s below
 * the last one heard plus 7/8 of the time since. The lab restarts miniupnpd in ~30 ms, so the old
 * daemon must have been up a few seconds when the client last heard it, or the reset cannot show (a
 * real router takes longer to reboot). 4 s covers up to 16 s between that and the next renewal.
 */
const MIN_EPOCH = 4
/**
 * miniupnpd grants PCP mappings at least its `min_lifetime` (120 s by default, RFC 6887 section 15's recommended minimum; the lab sets it short), so PCP
 * renewals come every half of it: waits for them allow that.
 */
const PCP_MIN_LIFETIME_S = LAB_PCP_MIN_LIFETIME_S
const RENEWAL_WAIT = { upnp: WAIT, natpmp: WAIT, pcp: (PCP_MIN_LIFETIME_S / 2) * 1000 + WAIT } as const
/** Bound on the renewals waited for until the client has heard an epoch of MIN_EPOCH (one each TTL/2). */
const MAX_EPOCH_ROUNDS = 10
const HELLO = 'hello from behind the NAT'

/** The NAT-PMP epoch (seconds since the gateway's start), as natpmpc (the reference client) reads it. */
async function natpmpEpoch(lab: Lab, host: string, router: string): Promise<number> {
  const r = await lab.exec(host, ['natpmpc', '-g', lab.router(router).lanIp], { timeout: WAIT })
  const m = /epoch = (\d+)/.exec(r.stdout)
  if (m?.[1] === undefined) throw new Error(`natpmpc gave no epoch: ${r.stdout}${r.stderr}`)
  return Number(m[1])
}

/** Waits until the client has heard an epoch >= MIN_EPOCH: reads it, then waits for the client's next
 * renewal, which hears at least that much. */
async function untilClientHeardEpoch(lab: Lab, p: LabProcess, host: string, router: string, wait: number) {
  for (let round = 0; round < MAX_EPOCH_ROUNDS; round++) {
    const renewals = events(p, 'renewed').length
    const epoch = await natpmpEpoch(lab, host, router)
    await waitEvent(p, 'renewed', renewals + 1, wait)
    if (epoch >= MIN_EPOCH) return
  }
  throw new Error(`the gateway's epoch did not reach ${MIN_EPOCH} within ${MAX_EPOCH_ROUNDS} renewals`)
}

const cases = [
  { mode: 'igd2+natpmp', router: 'r1', host: 'alice', method: 'upnp' },
  { mode: 'natpmp', router: 'r2', host: 'bob', method: 'natpmp' },
  { mode: 'natpmp', router: 'r3', host: 'carol', method: 'pcp' },
] as const
/** miniupnpd's own name for mappings that carry no description */
const LABEL = { upnp: 'pyp2p-restart', natpmp: /^NAT-PMP/, pcp: /^PCP/ } as const

describe.skipIf(!ready.ok)(
  'router restart (miniupnpd restarted by the lab)',
  () => {
    let lab: Lab
    beforeAll(async () => {
      lab = await createLab({
        publicHosts: { net: {} },
        routers: {
          r1: { nat: 'cone', upnp: 'igd2+natpmp' },
          r2: { nat: 'cone', upnp: 'natpmp' },
          r3: { nat: 'cone', upnp: 'natpmp' },
        },
        hosts: { alice: { router: 'r1' }, bob: { router: 'r2' }, carol: { router: 'r3' } },
      })
    })
    afterAll(() => lab?.close())

    for (const { mode, router, host, method } of cases) {
      it.concurrent(`${mode}: the mapping the restart lost is put back (${method}), mapping:restored, reachable again`, async () => {
        const { wanIp } = lab.router(router)
        const p = lab.spawnNode(host, AGENT, [
          'hold',
          JSON.stringify({ client: { methods: [method] }, map: { ttl: TTL, description: 'pyp2p-restart' } }),
        ])
        try {
          const { mapping } = await waitEvent(p, 'mapped')
          const ttl = method === 'pcp' ? PCP_MIN_LIFETIME_S : TTL
          const wait = RENEWAL_WAIT[method]
          expect(mapping).toMatchObject({ method, externalAddress: wanIp, ttl })
          const entry = expect.objectContaining({
            protocol: 'TCP',
            externalPort: mapping.externalPort,
            internalIp: lab.host(host).ip,
            internalPort: mapping.internalPort,
            // NAT-PMP and PCP carry no description; miniupnpd names such mappings itself
            description: method === 'upnp' ? LABEL.upnp : expect.stringMatching(LABEL[method]),
          })
          expect(await lab.upnpMappings(router)).toEqual([entry])
          expect(await connectFrom(lab, 'net', wanIp, mapping.externalPort)).toBe(HELLO)
          // Right after a renewal (so not in the middle of one: a UPnP renewal that found the entry just
          // before the restart re-adds it without knowing it was lost) the client is stopped while the
          // router restarts, so what the restart did can be seen before the client repairs it (as if the
          // client's machine had been asleep); its next renewal runs when it continues.
          if (method !== 'upnp') await untilClientHeardEpoch(lab, p, host, router, wait)
          else await waitEvent(p, 'renewed', events(p, 'renewed').length + 1, wait)
          p.kill('SIGSTOP')
          const restartedAt = performance.now()
          await lab.restartUpnp(router)
          if (method !== 'upnp') {
            // the epoch went back: it counts from the new start (at most the seconds since restartedAt)
            const epoch = await natpmpEpoch(lab, host, router)
            expect(epoch).toBeLessThanOrEqual(Math.ceil((performance.now() - restartedAt) / 1000))
          }
          expect(await lab.upnpMappings(router)).toEqual([])
          expect(await connectFrom(lab, 'net', wanIp, mapping.externalPort)).toMatch(/^failed/)
          const restored = events(p, 'restored').length
          p.kill('SIGCONT')

          const { mapping: back } = await waitEvent(p, 'restored', restored + 1, wait)
          expect(back).toMatchObject({
            method,
            externalAddress: wanIp,
            externalPort: mapping.externalPort,
            internalPort: mapping.internalPort,
            ttl,
          })
          expect(await lab.upnpMappings(router)).toEqual([entry])
          expect(await connectFrom(lab, 'net', wanIp, mapping.externalPort)).toBe(HELLO)

          // and it is still ours to remove
          p.kill('SIGTERM')
          expect(await p.exited).toEqual({ code: null, signal: 'SIGTERM' })
          expect(await lab.upnpMappings(router)).toEqual([])
        } finally {
          p.kill('SIGCONT')
          p.kill('SIGTERM')
          await p.exited
        }
      })
    }
  },
  300_000,
)
