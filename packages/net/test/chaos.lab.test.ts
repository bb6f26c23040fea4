/**
 * Issue 19's chaos run, short: four nodes behind different NATs (public, cone with miniupnpd, cone that
 * drops SYNs, symmetric) exchange numbered lines while the bootstrap server is killed and
 * restarted on its port, the miniupnpd router reboots, the symmetric host's link is cut and restored,
 * and the cone node is SIGKILLed. Every line sent must be delivered exactly once and in order, or its sender
 * told; every surviving advertised node must be listed again and every surviving pair exchange lines
 * again. Faults, line counts and heal times are printed. The long run is `npm run chaos`.
 */
import { createLab, cutLink, type Lab, labReadiness, rebootRouter, restoreLink } from '@pyp2p/netlab'
import { afterAll, describe, expect, it } from 'vitest'
import { chaosSpec, runChaos } from './fixtures/chaos-lab.js'

const ready = await labReadiness()

describe.skipIf(!ready.ok)('chaos (issue 19)', () => {
  let lab: Lab | undefined
  afterAll(async () => {
    await lab?.close()
  }, 30_000)

  it('heals from a server restart, a router reboot, a cut link and a killed node without losing a line', async () => {
    lab = await createLab(chaosSpec())
    const lines: string[] = []
    const result = await runChaos(
      lab,
      { cutLink, restoreLink, rebootRouter },
      {
        faults: ['server', 'reboot', 'cut', 'kill'],
        cutMs: 2_000,
        intervalMs: 100,
        boundMs: 20_000,
        startMs: 60_000,
        log: (line) => lines.push(line),
      },
    )
    const total = (k: 'sent' | 'delivered' | 'reported') => result.pairs.reduce((a, p) => a + p[k], 0)
    console.log(
      [
        ...lines,
        'lines per direction:',
        ...result.pairs.map((p) =>
          p.receiverKilled
            ? `  ${p.from} -> ${p.to}: sent ${p.sent}, receiver killed: all reported by disconnect`
            : `  ${p.from} -> ${p.to}: sent ${p.sent}, delivered ${p.delivered}, reported ${p.reported}` +
              (p.deliveredAnyway > 0 ? ` (${p.deliveredAnyway} delivered although reported)` : ''),
        ),
        `  total: sent ${total('sent')}, delivered ${total('delivered')}, reported ${total('reported')}`,
        'heal time per node (ms after the fault ended):',
        ...result.heal.map((h) => `  ${JSON.stringify(h)}`),
        `listed after the run: ${JSON.stringify(result.listed)}`,
      ].join('\n'),
    )
    expect(result.problems).toEqual([])
    expect(total('sent')).toBeGreaterThan(0)
    expect(total('delivered') + total('reported')).toBe(total('sent'))
  }, 170_000)
})
