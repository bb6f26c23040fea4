/**
 * `npm run chaos`: issue 19's chaos run, long. The lab and nodes of packages/net/test/chaos.lab.test.ts
 * (fixtures/chaos-lab.ts: nodes behind a public address, a cone router with miniupnpd, a cone router that
 * drops SYNs and a symmetric router, exchanging numbered lines), with `--rounds` rounds of faults
 * (bootstrap server killed and restarted on its port, the miniupnpd router rebooted, the symmetric
 * host's link cut for `--cut-ms`), then one node SIGKILLed. Prints the faults injected, lines
 * sent/delivered/reported per direction, the heal time of each node after each fault, and every problem
 * (a line lost silently, duplicated or out of order; a node that did not heal or is not listed again).
 *
 *   npm run chaos -- [--rounds 6] [--cut-ms 5000] [--interval-ms 100] [--bound-ms 30000]
 *
 * Exit code 1 when there was a problem. Writes bench/results/chaos.json. Needs root (the NAT lab).
 */
import { parseArgs } from 'node:util'
import { createLab, cutLink, labReadiness, rebootRouter, restoreLink } from '@pyp2p/netlab'
import { chaosSpec, type Fault, runChaos } from '../../packages/net/test/fixtures/chaos-lab.js'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '6' },
    'cut-ms': { type: 'string', default: '5000' },
    'interval-ms': { type: 'string', default: '100' },
    'bound-ms': { type: 'string', default: '30000' },
  },
})
const ready = await labReadiness()
if (!ready.ok) {
  console.error(`the NAT lab is not available: ${ready.reason}`)
  process.exit(2)
}
const rounds = Number(values.rounds)
const faults: Fault[] = [
  ...Array.from({ length: rounds }, () => ['server', 'reboot', 'cut'] as const).flat(),
  'kill',
]
const lab = await createLab(chaosSpec())
try {
  const result = await runChaos(
    lab,
    { cutLink, restoreLink, rebootRouter },
    {
      faults,
      cutMs: Number(values['cut-ms']),
      intervalMs: Number(values['interval-ms']),
      boundMs: Number(values['bound-ms']),
      startMs: 120_000,
      log: (line) => console.log(line),
    },
  )
  printTable(
    'faults injected',
    result.faults.map((f) => ({ fault: f.fault, target: f.target, ms: f.endAt - f.startAt })),
  )
  printTable(
    'lines per direction',
    result.pairs.map((p) => ({ ...p })),
  )
  const total = (k: 'sent' | 'delivered' | 'reported') => result.pairs.reduce((a, p) => a + p[k], 0)
  printTable('lines in all', [
    { sent: total('sent'), delivered: total('delivered'), reported: total('reported') },
  ])
  printTable('heal time per node, ms after the fault ended', result.heal)
  printTable('listed after the run', [result.listed])
  console.log(result.problems.length === 0 ? 'no problems' : `PROBLEMS:\n${result.problems.join('\n')}`)
  console.log(`results: ${await writeResults('chaos', [result])}`)
  process.exitCode = result.problems.length === 0 ? 0 : 1
} finally {
  await lab.close()
}
