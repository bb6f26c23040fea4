/**
 * Runs one row of the message relay under attack (the worker is in attack-relay.ts): a server with its
 * embedded relay, the worker, then the server's RSS and the limits that fired.
 */
import type { Lab, LabProcess } from '@pyp2p/netlab'
import { quantile, type Row, rssMb, spawnWorker, TARGET } from './attack-common.js'
import type { RelayAttack } from './attack-relay.js'
import { startServer, stopServer } from './attack-server.js'

export interface RelayScenario {
  name: string
  attack: RelayAttack
}

interface RelayResult {
  requests: number
  delivered: number
  ms: number[]
  failures: Record<string, number>
  share: number
  codes: Record<string, number>
}

export async function runRelayScenario(
  lab: Lab,
  s: RelayScenario,
  signal: AbortSignal,
  started: LabProcess[],
): Promise<Row> {
  const { server, port } = await startServer(lab, [], signal)
  started.push(server)
  const w = spawnWorker(lab, 'relay', [TARGET.v4, port, s.attack])
  started.push(w)
  const res = JSON.parse(await w.waitForLine(/"result":true/, { timeout: 60_000, signal })) as RelayResult
  const rss = rssMb(server.pid)
  const bye = await stopServer(server, signal)
  return {
    scenario: s.name,
    table: s.attack === 'offline' ? "Bob's queue" : 'relay bytes',
    attackerShare: s.attack === 'none' ? 0 : res.share,
    legitOk: `${res.delivered}/${res.requests}`,
    p50Ms: quantile(res.ms, 0.5),
    p99Ms: quantile(res.ms, 0.99),
    rssMb: rss,
    limits: bye.limits,
    failures: res.failures,
    attackerCodes: res.codes,
  }
}
