/**
 * Attacks from one network prefix (issue 21), in a lab namespace where 10.9.9.0/24 and fd00:9::/64
 * (attacker), 10.8.8.0/24 and fd00:8::/64 (legitimate clients) and 10.7.7.0/24, fd00:7::/64 (the server
 * or node) are local addresses, so one process connects from any of them. Every process runs in that
 * namespace; each attack runs beside a baseline without attack in the same run. Rows:
 *
 * - the bootstrap server's connection table (attack-server.ts): an attacker holding connections with
 *   signed registrations under fresh keys (the server requires proofs: the unsigned ones it sent
 *   before were refused, so the old wait for registered connections never ended, the hang of this
 *   bench), p50/p99 of legitimate `BOOTSTRAP 5` round trips (line sent to `NODES` read);
 * - a `Net` node's inbound slots (attack-node.ts): silent sockets, or hello'd connections under random
 *   ids that then stay silent; p50/p99 of legitimate connect + handshake + line + echo;
 * - the embedded message relay (attack-relay.ts): one prefix filling an offline node's queue or the
 *   relay's; p50/p99 of legitimate sends (to acceptance), and how many were delivered.
 *
 * Columns: the attacker's share of the table it attacks, legitimate successes, p50/p99 under attack,
 * p99 of the baseline, the RSS of the server or node, the goal and whether it was met. Each scenario
 * has a deadline: one that cannot finish is a failure row, not a hang. The lab is deleted on every
 * exit path (its exit and signal hooks, and `finally`).
 *
 *   npm run bench:attack -- [--connections 2000] [--requests 400] [--rounds 100] [--only <name part>]
 *
 * Writes bench/results/attack.json. Needs root (network namespaces).
 */
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { addLocalPrefixes, createLab, type Lab } from '@pyp2p/netlab'
import { ARENA, bounded, type Family, PREFIXES, type Row, type ScenarioRun } from './attack-common.js'
import { type NodeScenario, runNodeScenario } from './attack-node-run.js'
import type { RelayAttack } from './attack-relay.js'
import { type RelayScenario, runRelayScenario } from './attack-relay-run.js'
import { runServerScenario, type ServerScenario } from './attack-server.js'
import { printTable, writeResults } from './report.js'

/** A scenario's deadline, ms: fill (15 s) + legitimate run (30 s) + start and stop, with room. */
const SCENARIO_MS = 90_000
const SERVER_GOAL = '100% served, p99 BOOTSTRAP < 10 ms'
const NODE_GOAL = '100% served'
const RELAY_GOAL = '100% delivered'

/** One row to run: `group` pairs each attack with its baseline (same target, same address family). */
type Plan = { group: string; goal: string; name: string; run: ScenarioRun }

function plans(o: { connections: number; requests: number; rounds: number }, lab: Lab): Plan[] {
  const noPrefixLimit = ['--max-connections-per-prefix', '1000000', '--max-nodes-per-prefix', '1000000']
  const noIpLimit = ['--max-connections-per-ip', '1000000', '--max-nodes-per-ip', '1000000']
  const server: ServerScenario[] = [
    { name: 'server: no attack (IPv4)', attack: 'none', family: 'v4', flags: [] },
    { name: 'server: IPv4 /24, defaults', attack: 'v4', family: 'v4', flags: [] },
    { name: 'server: IPv4 /24, fairness only', attack: 'v4', family: 'v4', flags: noPrefixLimit },
    { name: 'server: no attack (IPv6)', attack: 'none', family: 'v6', flags: [] },
    { name: 'server: IPv6 /64, defaults', attack: 'v6', family: 'v6', flags: [] },
    {
      name: 'server: IPv6 /64, fairness only',
      attack: 'v6',
      family: 'v6',
      flags: [...noPrefixLimit, ...noIpLimit],
    },
  ]
  const node: NodeScenario[] = [
    { name: 'node: no attack (IPv4)', attack: 'none', family: 'v4' },
    { name: 'node: IPv4 /24 silent sockets', attack: 'silent', family: 'v4' },
    { name: "node: IPv4 /24 hello'd, silent", attack: 'hello', family: 'v4' },
    { name: 'node: no attack (IPv6)', attack: 'none', family: 'v6' },
    { name: 'node: IPv6 /64 silent sockets', attack: 'silent', family: 'v6' },
    { name: "node: IPv6 /64 hello'd, silent", attack: 'hello', family: 'v6' },
  ]
  const relay: RelayScenario[] = [
    { name: 'relay: no attack', attack: 'none' },
    { name: "relay: /24 fills offline node's queue", attack: 'offline' },
    { name: "relay: /24 fills relay's queue", attack: 'total' },
  ]
  return [
    ...server.map(
      (s): Plan => ({
        group: `server ${s.family}`,
        goal: SERVER_GOAL,
        name: s.name,
        run: (signal, started) => runServerScenario(lab, s, o, signal, started),
      }),
    ),
    ...node.map(
      (s): Plan => ({
        group: `node ${s.family}`,
        goal: NODE_GOAL,
        name: s.name,
        run: (signal, started) => runNodeScenario(lab, s, o, signal, started),
      }),
    ),
    ...relay.map(
      (s): Plan => ({
        group: 'relay',
        goal: RELAY_GOAL,
        name: s.name,
        run: (signal, started) => runRelayScenario(lab, s, signal, started),
      }),
    ),
  ]
}

/** Whether a row meets its goal: every legitimate request served (and p99 under 10 ms for BOOTSTRAP). */
function met(row: Row, goal: string): 'yes' | 'no' {
  const [ok, of] = String(row.legitOk ?? '0/1').split('/')
  const served = row.failed === undefined && ok === of
  const fast = goal !== SERVER_GOAL || (typeof row.p99Ms === 'number' && row.p99Ms < 10)
  return served && fast ? 'yes' : 'no'
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string' },
      requests: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
    },
  })
  const o = {
    connections: Number(values.connections ?? 2000),
    requests: Number(values.requests ?? 400),
    rounds: Number(values.rounds ?? 100),
  }
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
  const lab = await createLab({ publicHosts: { [ARENA]: {} } })
  try {
    await addLocalPrefixes(lab, ARENA, PREFIXES)
    const rows: Row[] = []
    const baseline = new Map<string, unknown>()
    for (const p of plans(o, lab)) {
      if (values.only !== undefined && !p.name.includes(values.only)) continue
      const t0 = performance.now()
      const row = await bounded(p.name, SCENARIO_MS, p.run)
      if (p.name.includes('no attack')) baseline.set(p.group, row.p99Ms)
      rows.push({ ...row, p99BaselineMs: baseline.get(p.group), goal: p.goal, met: met(row, p.goal) })
      process.stderr.write(`done: ${p.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`)
    }
    const loadAfter = loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')
    printTable(
      `attacks from one prefix (server table ${o.connections}, ${o.requests} BOOTSTRAPs; node ${o.rounds} rounds; ` +
        `load average ${load} before, ${loadAfter} after, 2 cores shared)`,
      rows.map(({ limits: _l, failures: _f, attackerCodes: _c, p99ConnectToNodesMs: _t, ...r }) => r),
    )
    const file = await writeResults('attack', { ...o, load: { before: load, after: loadAfter }, rows })
    console.log(`\nwrote ${file}`)
  } finally {
    await lab.close()
  }
}

const argv = process.argv.slice(2)
if (argv[0] === '--worker') {
  const [, role = '', a = '', b = '0', c = '', d = '', e = ''] = argv
  const fam = (x: string): Family => (x === 'v6' ? 'v6' : 'v4')
  // Workers import what they run only here: the driver never loads @pyp2p/net or the relay client.
  if (role === 'server-attack' || role === 'server-legit') {
    const w = await import('./attack-server.js')
    if (role === 'server-attack') w.serverAttackWorker(a, Number(b), Number(c), fam(d))
    else await w.serverLegitWorker(a, Number(b), Number(c), fam(d))
  } else if (role.startsWith('node-')) {
    const w = await import('./attack-node.js')
    if (role === 'node-target') await w.nodeTargetWorker()
    else if (role === 'node-attack')
      w.nodeAttackWorker(a, Number(b), c, fam(d), e === 'hello' ? 'hello' : 'silent')
    else await w.nodeLegitWorker(a, Number(b), c, Number(d), fam(e))
  } else if (role === 'relay') {
    const w = await import('./attack-relay.js')
    await w.relayWorker(a, Number(b), c as RelayAttack)
  } else throw new Error(`unknown worker ${role}`)
} else {
  await main()
}
