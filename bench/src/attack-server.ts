/**
 * The bootstrap server's connection table under attack from one prefix (bench/src/attack.ts): the
 * server (the built CLI, plain Node), an attacker holding as many connections as the server lets it,
 * each registering a fresh simultaneous node with a valid signature (keys are free), re-opening every
 * one it loses at once, and a legitimate client from another prefix that connects, sends
 * `BOOTSTRAP 5`, reads `NODES` and closes, one after the other.
 */
import { connectLine } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import type { Lab, LabProcess } from '@pyp2p/netlab'
import { PrefixClients, randomAddressIn64 } from '@pyp2p/netlab'
import { withProof } from '@pyp2p/punch'
import { formatClientMessage, parseServerMessage } from '@pyp2p/rendezvous-protocol'
import {
  ARENA,
  codeOf,
  count,
  type Family,
  lastReport,
  legitAddress,
  quantile,
  type Row,
  rssMb,
  SERVER_BIN,
  spawnWorker,
  TARGET,
} from './attack-common.js'

/** The time the attacker gets to fill the table before the legitimate client starts, ms at most. */
const FILL_MS = 15_000
/** The legitimate client's run, ms at most (the rest of its requests count as failures). */
const LEGIT_MS = 30_000

/** A signed `SIMULTANEOUS READY` under a fresh key, bound to the server's HELLO (nonce, server id). */
function signedReady(hello: string): string {
  const h = parseServerMessage(hello)
  if (h.type !== 'HELLO') throw new Error(`not a HELLO: ${hello}`)
  const me = NodeIdentity.generate()
  const ready = {
    type: 'READY',
    nodeType: 'simultaneous',
    port: 1,
    maxInbound: 10,
    nodeId: me.nodeId,
  } as const
  return formatClientMessage(withProof(ready, me, { nonce: h.nonce, serverId: h.serverId }))
}

/** Holds `n` connections from the attacking prefix; reports `{"admitted":..}` lines until killed. */
export function serverAttackWorker(host: string, port: number, n: number, family: Family): void {
  const from = (i: number): string =>
    family === 'v6' ? randomAddressIn64('fd00:9::') : `10.9.9.${1 + (i % 250)}`
  const attacker = new PrefixClients({ host, port, from, ready: signedReady })
  for (let i = 0; i < n; i++) void attacker.open(i)
  setInterval(() => {
    const { admitted, held, opened, codes } = attacker
    process.stdout.write(`${JSON.stringify({ admitted, held, opened, codes })}\n`)
  }, 250)
}

/** `requests` BOOTSTRAP exchanges on fresh connections, for LEGIT_MS at most; one JSON result line. */
export async function serverLegitWorker(host: string, port: number, requests: number, family: Family) {
  const rtt: number[] = []
  const total: number[] = []
  const failures: Record<string, number> = {}
  const end = performance.now() + LEGIT_MS
  for (let i = 0; i < requests; i++) {
    if (performance.now() > end) {
      count(failures, 'BENCH_DEADLINE', requests - i)
      break
    }
    const t0 = performance.now()
    try {
      const con = await connectLine({ host, port, localAddress: legitAddress(family, i), timeout: 5_000 })
      try {
        const hello = await con.readLine({ timeout: 5_000 })
        if (!hello.startsWith('HELLO ')) throw new Error(hello.split(' ').slice(0, 2).join(' '))
        const t1 = performance.now()
        con.sendLine('BOOTSTRAP 5')
        const reply = await con.readLine({ timeout: 5_000 })
        if (!reply.startsWith('NODES ')) throw new Error(reply.split(' ').slice(0, 2).join(' '))
        rtt.push(performance.now() - t1)
        total.push(performance.now() - t0)
      } finally {
        con.close()
      }
    } catch (error) {
      count(failures, codeOf(error))
    }
  }
  process.stdout.write(`${JSON.stringify({ result: true, rtt, total, failures })}\n`)
}

export interface ServerScenario {
  name: string
  attack: 'none' | Family
  family: Family
  flags: string[]
}

interface AttackReport {
  admitted: number
  held: number
  codes: Record<string, number>
}

/** Waits until the attacker holds as much as it will (no change over 1 s), FILL_MS at most. */
async function filled(attacker: LabProcess, signal: AbortSignal): Promise<void> {
  const until = performance.now() + FILL_MS
  let last = -1
  let since = performance.now()
  for await (const line of attacker.lines) {
    if (signal.aborted || performance.now() > until) return
    const r = JSON.parse(line) as AttackReport
    if (r.admitted !== last) {
      last = r.admitted
      since = performance.now()
    } else if (r.admitted > 0 && performance.now() - since >= 1_000) return
  }
}

export async function runServerScenario(
  lab: Lab,
  s: ServerScenario,
  o: { connections: number; requests: number },
  signal: AbortSignal,
  started: LabProcess[],
): Promise<Row> {
  const family = s.family
  const host = TARGET[family]
  const { server, port } = await startServer(lab, [`--max-connections ${o.connections}`, ...s.flags], signal)
  started.push(server)
  let attacker: LabProcess | undefined
  if (s.attack !== 'none') {
    attacker = spawnWorker(lab, 'server-attack', [host, port, o.connections, s.attack])
    started.push(attacker)
    await filled(attacker, signal)
  }
  const legit = spawnWorker(lab, 'server-legit', [host, port, o.requests, family])
  started.push(legit)
  const line = await legit.waitForLine(/"result":true/, { timeout: 60_000, signal })
  const res = JSON.parse(line) as { rtt: number[]; total: number[]; failures: Record<string, number> }
  const rss = rssMb(server.pid)
  const during = attacker === undefined ? undefined : lastReport<AttackReport>(attacker, 'admitted')
  const bye = await stopServer(server, signal)
  return {
    scenario: s.name,
    table: `${o.connections} conns`,
    attackerShare: during === undefined ? 0 : during.admitted / o.connections,
    legitOk: `${res.rtt.length}/${o.requests}`,
    p50Ms: quantile(res.rtt, 0.5),
    p99Ms: quantile(res.rtt, 0.99),
    rssMb: rss,
    p99ConnectToNodesMs: quantile(res.total, 0.99),
    evictions: bye.evictions,
    limits: bye.limits,
    failures: res.failures,
    attackerCodes: during?.codes,
  }
}

/** The server CLI in the arena on a free port, with the flags; resolves once it listens. */
export async function startServer(
  lab: Lab,
  flags: readonly string[],
  signal: AbortSignal,
): Promise<{ server: LabProcess; port: number }> {
  const server = lab.spawn(ARENA, [
    'sh',
    '-c',
    `ulimit -n 20000 && exec "${process.execPath}" "${SERVER_BIN}" --host :: --port 0 --json ${flags.join(' ')}`,
  ])
  const listening = await server.waitForLine(/"msg":"listening/, { timeout: 30_000, signal }).catch((e) => {
    server.kill('SIGKILL')
    throw e
  })
  return { server, port: (JSON.parse(listening) as { port: number }).port }
}

/** SIGTERM, then the stats of its `shutting down` log line. */
export async function stopServer(server: LabProcess, signal: AbortSignal) {
  server.kill('SIGTERM')
  const bye = await server.waitForLine(/"msg":"shutting down/, { timeout: 15_000, signal })
  return JSON.parse(bye) as { limits: Record<string, number>; evictions: number; relayQueued: number }
}
