/**
 * The bootstrap server under attack from one network prefix (issue 21), in a lab namespace where
 * 10.9.9.0/24 and fd00:9::/64 (attacker), 10.8.8.0/24 and fd00:8::/64 (legitimate clients) and
 * 10.7.7.0/24, fd00:7::/64 (the server) are local addresses, so one process connects from any of them.
 *
 * Three processes per run, all in the namespace: the server (the built CLI, `dist/bin.js`, plain Node,
 * `ulimit -n 20000`), an attacker (this file with `--worker attack`) that holds as many connections as
 * the server lets it, each registering a random simultaneous node, and re-opens every one it loses or is
 * refused at once (full rate), and a legitimate client (`--worker legit`) from another prefix that
 * connects, sends `BOOTSTRAP 5`, reads `NODES` and closes, one after the other. Per attack: the
 * attacker's share of the table, the legitimate clients' success rate and p50/p99 BOOTSTRAP latency
 * (line sent to reply read) and connect-to-reply time, with and without the attack, the server's RSS and
 * the limits that fired (from its `shutting down` log line).
 *
 *   npm run bench:attack -- [--connections 2000] [--requests 400]
 *
 * Writes bench/results/attack.json. Needs root (network namespaces).
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connectLine } from '@pyp2p/framing'
import {
  addLocalPrefixes,
  createLab,
  type Lab,
  type LabProcess,
  PrefixClients,
  randomAddressIn64,
} from '@pyp2p/netlab'
import { printTable, writeResults } from './report.js'

const HERE = dirname(fileURLToPath(import.meta.url))
const SERVER_BIN = join(HERE, '..', '..', 'packages', 'bootstrap-server', 'dist', 'bin.js')
const WAIT = 60_000

// ------------------------------------------------------------------------------------------ workers
/** Holds `n` connections from the attacking prefix; reports `{"held":..}` lines until stdin closes. */
function attackWorker(host: string, port: number, n: number, six: boolean): void {
  const from = (i: number): string => (six ? randomAddressIn64('fd00:9::') : `10.9.9.${1 + (i % 250)}`)
  const attacker = new PrefixClients({ host, port, from }) // re-opens every lost or refused slot at once
  for (let i = 0; i < n; i++) void attacker.open(i)
  const report = setInterval(() => {
    const { held, opened: attempts, codes } = attacker
    process.stdout.write(`${JSON.stringify({ held, attempts, codes })}\n`)
  }, 250)
  process.stdin.on('end', () => {
    clearInterval(report)
    process.exit(0)
  })
  process.stdin.resume()
}

/** `requests` BOOTSTRAP exchanges on fresh connections; prints one JSON result line. */
async function legitWorker(host: string, port: number, requests: number, six: boolean): Promise<void> {
  const rtt: number[] = []
  const total: number[] = []
  const failures: Record<string, number> = {}
  for (let i = 0; i < requests; i++) {
    const localAddress = six ? `fd00:8::${(i % 200) + 1}` : `10.8.8.${(i % 200) + 1}`
    const t0 = performance.now()
    try {
      const con = await connectLine({ host, port, localAddress, timeout: 5_000 })
      try {
        const hello = await con.readLine({ timeout: 5_000 })
        if (!hello.startsWith('HELLO ')) throw new Error(hello.split(' ').slice(0, 2).join(' '))
        const t1 = performance.now()
        con.sendLine('BOOTSTRAP 5')
        const reply = await con.readLine({ timeout: 5_000 })
        if (!reply.startsWith('NODES ')) throw new Error(reply.split(' ').slice(0, 2).join(' '))
        const t2 = performance.now()
        rtt.push(t2 - t1)
        total.push(t2 - t0)
      } finally {
        con.close()
      }
    } catch (error) {
      const why = (error as { code?: string }).code ?? (error as Error).message
      failures[why] = (failures[why] ?? 0) + 1
    }
  }
  process.stdout.write(`${JSON.stringify({ result: true, rtt, total, failures })}\n`)
}

// ------------------------------------------------------------------------------------------ driver
function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : Number.NaN
}

interface Scenario {
  name: string
  attack: 'none' | 'v4' | 'v6'
  flags: string[]
}

async function runScenario(lab: Lab, s: Scenario, o: { connections: number; requests: number }) {
  const six = s.attack === 'v6'
  const host = six ? 'fd00:7::1' : '10.7.7.1'
  const server = lab.spawn('arena', [
    'sh',
    '-c',
    `ulimit -n 20000 && exec "${process.execPath}" "${SERVER_BIN}" --host :: --port 0 --json --max-connections ${o.connections} ${s.flags.join(' ')}`,
  ])
  const listening = JSON.parse(await server.waitForLine(/"msg":"listening/, { timeout: WAIT })) as {
    port: number
  }
  const port = listening.port
  const rssIdle = rssMb(server.pid)
  let attacker: LabProcess | undefined
  let held = 0
  if (s.attack !== 'none') {
    attacker = worker(lab, ['attack', host, String(port), String(o.connections), s.attack])
    // Filled: the attacker holds as much as it will (no change over the last report).
    let last = -1
    for await (const line of attacker.lines) {
      const r = JSON.parse(line) as { held: number }
      if (r.held > 0 && r.held === last) break
      last = r.held
    }
    held = last
  }
  const legit = worker(lab, ['legit', host, String(port), String(o.requests), six ? 'v6' : 'v4'])
  const res = JSON.parse(await legit.waitForLine(/"result":true/, { timeout: WAIT * 5 })) as {
    rtt: number[]
    total: number[]
    failures: Record<string, number>
  }
  const rssAttack = rssMb(server.pid)
  let during = held
  if (attacker !== undefined) {
    const lines = attacker.stdout().trim().split('\n')
    during = (JSON.parse(lines[lines.length - 1] as string) as { held: number }).held
    attacker.kill()
    await attacker.exited
  }
  server.kill('SIGTERM')
  const bye = JSON.parse(await server.waitForLine(/"msg":"shutting down/, { timeout: WAIT })) as {
    limits: Record<string, number>
    evictions: number
  }
  await server.exited
  return {
    scenario: s.name,
    attackerShare: Number((during / o.connections).toFixed(3)),
    legitOk: `${res.rtt.length}/${o.requests}`,
    successPct: (100 * res.rtt.length) / o.requests,
    p50Ms: quantile(res.rtt, 0.5),
    p99Ms: quantile(res.rtt, 0.99),
    p99ConnectToNodesMs: quantile(res.total, 0.99),
    rssIdleMb: rssIdle,
    rssMb: rssAttack,
    evictions: bye.evictions,
    limits: bye.limits,
    failures: res.failures,
  }
}

function worker(lab: Lab, args: string[]): LabProcess {
  const argv = [
    process.execPath,
    '--import',
    'tsx',
    '--conditions=@pyp2p/source',
    fileURLToPath(import.meta.url),
  ]
  const cmd = [...argv, '--worker', ...args].map((a) => `"${a}"`).join(' ')
  return lab.spawn('arena', ['sh', '-c', `ulimit -n 20000 && exec ${cmd}`], { cwd: join(HERE, '..') })
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { connections: { type: 'string' }, requests: { type: 'string' } },
  })
  const o = { connections: Number(values.connections ?? 2000), requests: Number(values.requests ?? 400) }
  const noPrefixLimit = ['--max-connections-per-prefix', '1000000', '--max-nodes-per-prefix', '1000000']
  const noIpLimit = ['--max-connections-per-ip', '1000000', '--max-nodes-per-ip', '1000000']
  const scenarios: Scenario[] = [
    { name: 'no attack', attack: 'none', flags: [] },
    { name: 'IPv4 /24, defaults', attack: 'v4', flags: [] },
    { name: 'IPv6 /64, defaults', attack: 'v6', flags: [] },
    { name: 'IPv4 /24, fairness only', attack: 'v4', flags: noPrefixLimit },
    { name: 'IPv6 /64, fairness only', attack: 'v6', flags: [...noPrefixLimit, ...noIpLimit] },
  ]
  const lab = await createLab({ publicHosts: { arena: {} } })
  try {
    const prefixes = [
      '10.7.7.0/24',
      '10.8.8.0/24',
      '10.9.9.0/24',
      'fd00:7::/64',
      'fd00:8::/64',
      'fd00:9::/64',
    ]
    await addLocalPrefixes(lab, 'arena', prefixes)
    const rows = []
    for (const s of scenarios) {
      rows.push(await runScenario(lab, s, o))
      process.stderr.write(`done: ${s.name}\n`)
    }
    printTable(
      `bootstrap server under attack from one prefix (table ${o.connections}, ${o.requests} BOOTSTRAPs)`,
      rows.map(({ limits: _l, failures: _f, ...r }) => r),
    )
    const file = await writeResults('attack', { connections: o.connections, requests: o.requests, rows })
    console.log(`\nwrote ${file}`)
  } finally {
    await lab.close()
  }
}

const argv = process.argv.slice(2)
if (argv[0] === '--worker') {
  const [, role, host = '', port = '0', n = '0', family = 'v4'] = argv
  if (role === 'attack') attackWorker(host, Number(port), Number(n), family === 'v6')
  else await legitWorker(host, Number(port), Number(n), family === 'v6')
} else {
  await main()
}
