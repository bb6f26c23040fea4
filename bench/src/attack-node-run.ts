/**
 * Runs one row of a node's inbound slots under attack (workers in attack-node.ts): the target, then
 * the attacker with a head start, then the legitimate node; the attacker's most slots while the
 * legitimate node ran, its successes and latencies, the target's RSS.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Lab, LabProcess } from '@pyp2p/netlab'
import { type Family, lastReport, quantile, type Row, rssMb, spawnWorker, TARGET } from './attack-common.js'
import type { NodeAttack } from './attack-node.js'

/** `Net`'s default `maxInbound`: the table whose share the attacker gets. */
const MAX_INBOUND = 10
/** How long the attacker runs alone before the legitimate node starts, ms. */
const HEAD_START_MS = 3_000

export interface NodeScenario {
  name: string
  attack: 'none' | NodeAttack
  family: Family
}

export async function runNodeScenario(
  lab: Lab,
  s: NodeScenario,
  o: { rounds: number },
  signal: AbortSignal,
  started: LabProcess[],
): Promise<Row> {
  const host = TARGET[s.family]
  const target = spawnWorker(lab, 'node-target', [])
  started.push(target)
  const hello = JSON.parse(await target.waitForLine(/"nodeId"/, { timeout: 30_000, signal })) as {
    port: number
    nodeId: string
  }
  let attacker: LabProcess | undefined
  if (s.attack !== 'none') {
    attacker = spawnWorker(lab, 'node-attack', [host, hello.port, hello.nodeId, s.family, s.attack])
    started.push(attacker)
    await sleep(HEAD_START_MS, undefined, { signal })
  }
  const skip = target.stdout().split('\n').length
  const legit = spawnWorker(lab, 'node-legit', [host, hello.port, hello.nodeId, o.rounds, s.family])
  started.push(legit)
  const line = await legit.waitForLine(/"result":true/, { timeout: 60_000, signal })
  const res = JSON.parse(line) as { ms: number[]; failures: Record<string, number> }
  const rss = rssMb(target.pid)
  // The attacker's most slots while the legitimate node ran.
  let share = 0
  for (const l of target.stdout().split('\n').slice(skip)) {
    if (!l.includes('"slots"')) continue
    share = Math.max(share, (JSON.parse(l) as { attacker: number }).attacker / MAX_INBOUND)
  }
  const codes = attacker && lastReport<{ codes: Record<string, number> }>(attacker, 'codes')?.codes
  return {
    scenario: s.name,
    table: `${MAX_INBOUND} slots`,
    attackerShare: share,
    legitOk: `${res.ms.length}/${o.rounds}`,
    p50Ms: quantile(res.ms, 0.5),
    p99Ms: quantile(res.ms, 0.99),
    rssMb: rss,
    failures: res.failures,
    attackerCodes: codes,
  }
}
