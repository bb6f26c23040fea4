/**
 * TCP hole punching in the NAT lab (@pyp2p/netlab): for each ordered pair of NAT kinds (candidate ->
 * target) a candidate node punches `--trials` times to a simultaneous node through the rendezvous
 * server (@pyp2p/bootstrap-server), sends a line and reads the target's line. Kinds: `cone-drop` and
 * `cone-rst` (port-preserving routers that drop / reset unsolicited SYNs), `public` (no NAT), plus
 * `symmetric` (random ports: expected to fail, with a typed error) and `sequential` (delta prediction).
 *
 *   npm run bench:punch -- [--trials 50] [--only cone-rst] [--inbound no] [--latency 0,5]
 *
 * `--inbound no` runs the nodes without the inbound-policy probe (detectNat's `inbound` option), so the
 * server does not order the two sides' SYNs: the comparison for what that ordering buys.
 * `--latency <ms>[,<ms>...]` gives every router that one-way latency on its WAN side (netlab's
 * `latencyMs`: what arrives there waits that long before the router sees it); default 0, the lab's own
 * (microseconds). Several run one after the other, a table each: `--latency 0,5` puts the baseline
 * without latency beside the run with it.
 *
 * Per cell: success rate; attempts per success (connect() calls on the busier side of each punch, in
 * its last round: the SYNs it took); the share of successes where both sides' first connect() of the
 * first round connected; how many needed a second round (fresh ports); and the time
 * from the candidate's `punch()` call to the first line received from the target (p50, p95). NAT
 * detection runs once per node before the trials and is not in those times. Cells run one after the
 * other so they do not share the CPU. Writes bench/results/punch.json.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { createLab, type LabProcess } from '@pyp2p/netlab'
import { PUNCH_LAB } from '../../packages/punch/test/fixtures/punch-lab.js'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '50' },
    only: { type: 'string' },
    inbound: { type: 'string', default: 'yes' },
    latency: { type: 'string', default: '0' },
  },
})
/** Router latencies to run, one after the other, each in a lab of its own. */
const LATENCIES = values.latency.split(',').map(Number)
if (LATENCIES.some((l) => !Number.isInteger(l) || l < 0))
  throw new Error('--latency: ms,ms,... (whole numbers)')
const TRIALS = Number(values.trials)
const NODE = fileURLToPath(new URL('../../packages/punch/test/fixtures/punch-node.ts', import.meta.url))
const SERVER = fileURLToPath(
  new URL('../../packages/punch/test/fixtures/rendezvous-server.ts', import.meta.url),
)
const START_TIMEOUT = 60_000

type Kind = 'cone-drop' | 'cone-rst' | 'public' | 'symmetric' | 'sequential'
/** Two hosts of each kind (behind different routers), so every pair can be punched. */
const HOSTS: Record<Kind, [string, string]> = {
  'cone-drop': ['hd1', 'hd2'],
  'cone-rst': ['hr1', 'hr2'],
  public: ['p1', 'p2'],
  symmetric: ['hsy', 'hsy'],
  sequential: ['hsq', 'hsq'],
}
const MAIN: Kind[] = ['cone-drop', 'cone-rst', 'public']
const CELLS: Array<[Kind, Kind]> = [
  ...MAIN.flatMap((a) => MAIN.map((b): [Kind, Kind] => [a, b])),
  ['cone-drop', 'sequential'],
  ['symmetric', 'cone-drop'],
  ['cone-drop', 'symmetric'],
].filter(([a, b]) => values.only === undefined || a === values.only || b === values.only) as Array<
  [Kind, Kind]
>

type Event = Record<string, unknown> & { event: string }
const events = (p: LabProcess): Event[] =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event)

function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Every cell with `latencyMs` of router latency (a lab of its own): the table's rows and details. */
async function runAt(
  latencyMs: number,
): Promise<{ rows: Array<Record<string, unknown>>; details: unknown[] }> {
  const lab = await createLab({
    ...PUNCH_LAB,
    routers: Object.fromEntries(
      Object.entries(PUNCH_LAB.routers).map(([name, r]) => [name, { ...r, latencyMs }]),
    ),
  })
  const rows: Array<Record<string, unknown>> = []
  const details: unknown[] = []
  try {
    const server = lab.spawnNode('srv', SERVER, ['--port', '8000'])
    await server.waitForLine(/^listening on /, { timeout: START_TIMEOUT })
    const rendezvous = `${lab.host('srv').ip}:8000`
    let n = 0
    const newId = (): string => (++n).toString(16).padStart(40, '0')

    for (const [from, to] of CELLS) {
      const candidateHost = HOSTS[from][0]
      const targetHost = from === to ? HOSTS[to][1] : HOSTS[to][to === 'public' && from === 'public' ? 1 : 0]
      const targetId = newId()
      const candidateId = newId()
      const target = lab.spawnNode(targetHost, NODE, [
        '--role',
        'target',
        '--server',
        rendezvous,
        '--node-id',
        targetId,
        '--inbound',
        values.inbound,
      ])
      await target.waitForLine(/"registered"/, { timeout: START_TIMEOUT })
      const candidate = lab.spawnNode(candidateHost, NODE, [
        ...['--role', 'candidate', '--server', rendezvous, '--node-id', candidateId],
        ...['--targets', targetId, '--trials', String(TRIALS), '--inbound', values.inbound],
      ])
      await candidate.waitForLine(/"done"/, { timeout: TRIALS * 20_000 })
      // the target's side of the last punch may still be reading the candidate's line
      const last = events(candidate).findLast((e) => e.event === 'connected')
      if (last !== undefined) {
        await target
          .waitForLine((l) => l.includes(String(last.punchId)), { timeout: START_TIMEOUT })
          .catch(() => undefined)
      }
      target.kill('SIGTERM')
      await target.exited

      const byPunch = new Map(
        events(target)
          .filter((e) => e.event === 'connected')
          .map((e) => [e.punchId, e]),
      )
      const tries = events(candidate).filter(
        (e) => e.event === 'connected' || (e.event === 'error' && 'trial' in e),
      )
      const ok = tries.filter((e) => e.event === 'connected')
      const attempts = ok.map((e) =>
        Math.max(Number(e.attempts), Number(byPunch.get(e.punchId)?.attempts ?? 0)),
      )
      const skews = ok
        .map((e) => Math.abs(Number(e.firedAt) - Number(byPunch.get(e.punchId)?.firedAt ?? Number.NaN)))
        .filter((x) => Number.isFinite(x))
        .sort((a, b) => a - b)
      const times = ok.map((e) => Number(e.firstLineMs)).sort((a, b) => a - b)
      const failures: Record<string, number> = {}
      for (const e of tries)
        if (e.event === 'error')
          failures[`${e.stage}/${e.code}`] = (failures[`${e.stage}/${e.code}`] ?? 0) + 1
      const failMs = tries
        .filter((e) => e.event === 'error')
        .map((e) => Number(e.ms))
        .sort((a, b) => a - b)
      const methods = [...new Set(ok.flatMap((e) => [e.method, byPunch.get(e.punchId)?.method]))].filter(
        Boolean,
      )
      const policy = (p: LabProcess): string =>
        String(events(p).find((e) => e.event === 'nat')?.inbound ?? '-')
      const row = {
        candidate: from,
        target: to,
        inbound: `${policy(candidate)}/${policy(target)}`,
        trials: tries.length,
        successPct: tries.length === 0 ? 0 : (100 * ok.length) / tries.length,
        firstAttemptPct:
          ok.length === 0
            ? undefined
            : (100 * ok.filter((e, i) => Number(e.rounds) === 1 && (attempts[i] ?? 0) <= 1).length) /
              ok.length,
        secondRound: ok.filter((e) => Number(e.rounds) > 1).length,
        attemptsPerSuccess: ok.length === 0 ? undefined : attempts.reduce((a, b) => a + b, 0) / ok.length,
        maxAttempts: ok.length === 0 ? undefined : Math.max(...attempts),
        p50Ms: percentile(times, 50),
        p95Ms: percentile(times, 95),
        failP95Ms: percentile(failMs, 95),
        skewP50Ms: percentile(skews, 50),
        skewP95Ms: percentile(skews, 95),
        methods: methods.join('+'),
        failures: Object.entries(failures)
          .map(([k, v]) => `${k} x${v}`)
          .join(', '),
      }
      rows.push(row)
      details.push({
        ...row,
        attempts,
        times,
        skews,
        errors: tries.filter((e) => e.event === 'error').map((e) => e.message),
        targetErrors: events(target)
          .filter((e) => e.event === 'error')
          .map((e) => e.message),
      })
      console.error(`${from} -> ${to}: ${ok.length}/${tries.length}`)
    }
    server.kill('SIGTERM')
  } finally {
    await lab.close()
  }
  return { rows, details }
}

for (const latencyMs of LATENCIES) {
  const { rows, details } = await runAt(latencyMs)
  const latency = latencyMs > 0 ? `, ${latencyMs} ms router latency` : ', no router latency'
  printTable(`punch in the NAT lab: ${TRIALS} trials per cell (candidate -> target)${latency}`, rows)
  const name = values.inbound === 'no' ? 'punch-no-inbound' : 'punch'
  const file = await writeResults(latencyMs > 0 ? `${name}-latency-${latencyMs}` : name, {
    trials: TRIALS,
    inboundProbe: values.inbound !== 'no',
    latencyMs,
    date: new Date().toISOString(),
    rows,
    details,
  })
  console.log(`\nwrote ${file}`)
}
