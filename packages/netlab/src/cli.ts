// `npm run lab -- up <scenario>` / `down [name]` / `list` / `scenarios` / `time`: NAT labs for people.
// Labs made by `up` are persistent (they outlive this command) and named `nlcli-<name>-<node>`, where
// the name is the scenario's unless `--as <name>` says otherwise.
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { CLI_PREFIX_HEAD } from './constants.js'
import { createLab } from './lab.js'
import { labTmpRoot, listNetns, removeNamespaces } from './leftovers.js'
import { labReadiness } from './readiness.js'
import { isScenario, SCENARIOS } from './scenarios.js'
import type { Lab } from './types.js'

const USAGE = `usage: npm run lab -- <command> [--json]
  up <scenario> [--as <name>]  build a lab and leave it running (replaces one of the same name)
  down [name]                  remove that lab (default: every lab made with up)
  list                         the labs made with up that are still there
  scenarios                    the scenarios and what they hold
  time <scenario> [n]          build and close a lab n times (default 5); print the durations
scenarios: ${Object.keys(SCENARIOS).join(', ')}`

const NAME_RE = /^[a-z0-9][a-z0-9-]{0,30}$/

function print(line = ''): void {
  process.stdout.write(`${line}\n`)
}

function usage(why: string): Error {
  return new Error(`${why}\n${USAGE}`)
}

/** lab names of CLI namespaces: `nlcli-<name>-<node>`, node names hold no '-' */
function cliLabs(namespaces: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const ns of namespaces) {
    if (!ns.startsWith(CLI_PREFIX_HEAD)) continue
    const name = ns.slice(CLI_PREFIX_HEAD.length, ns.lastIndexOf('-'))
    out.set(name, [...(out.get(name) ?? []), ns])
  }
  return out
}

async function down(name?: string): Promise<string[]> {
  const labs = cliLabs(await listNetns())
  const names = name === undefined ? [...labs.keys()] : [name]
  const namespaces = names.flatMap((n) => labs.get(n) ?? [])
  await removeNamespaces(namespaces)
  for (const n of names)
    rmSync(join(labTmpRoot(), `${CLI_PREFIX_HEAD}${n}`), { recursive: true, force: true })
  return namespaces
}

function describeLab(lab: Lab, name: string, ms: number): void {
  print(`lab "${name}" is up (${ms} ms). As root, open a shell in a node with:`)
  for (const h of lab.hosts) {
    const where = h.router ? `behind ${h.router}` : 'public'
    print(`  ${h.name.padEnd(10)} ${h.ip.padEnd(11)} ${where.padEnd(14)} ip netns exec ${h.ns} bash`)
  }
  for (const r of lab.routers) {
    const upnp = r.spec.upnp && r.spec.upnp !== 'none' ? ` upnp=${r.spec.upnp}` : ''
    const kind = `router ${r.spec.nat}/${r.spec.inbound ?? 'rst'}${upnp}`
    print(
      `  ${r.name.padEnd(10)} ${r.wanIp.padEnd(11)} ${kind} lan ${r.lanSubnet}: ip netns exec ${r.ns} bash`,
    )
    if (r.upnpUrl) print(`  ${''.padEnd(10)} from a host behind it: upnpc -u ${r.upnpUrl} -l`)
  }
  print(`remove it with: npm run lab -- down ${name}`)
}

async function time(scenario: string, n: number, json: boolean): Promise<void> {
  if (!isScenario(scenario)) throw usage(`unknown scenario "${scenario}"`)
  const runs: Array<{ create: number; close: number; total: number }> = []
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    const lab = await createLab(SCENARIOS[scenario])
    const t1 = performance.now()
    await lab.close()
    const t2 = performance.now()
    runs.push({ create: t1 - t0, close: t2 - t1, total: t2 - t0 })
  }
  if (json) {
    print(JSON.stringify({ scenario, runs }))
    return
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0
  const ms = (x: number) => `${x.toFixed(0)} ms`
  const totals = runs.map((r) => r.total)
  print(
    `${scenario}: ${n} create/close cycles: median ${ms(median(totals))} ` +
      `(create ${ms(median(runs.map((r) => r.create)))}, close ${ms(median(runs.map((r) => r.close)))}), ` +
      `max ${ms(Math.max(...totals))}`,
  )
}

async function requireLab(): Promise<void> {
  const ready = await labReadiness()
  if (!ready.ok) throw new Error(`cannot build a lab here: ${ready.reason}`)
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json')
  const asAt = argv.indexOf('--as')
  const as = asAt >= 0 ? argv[asAt + 1] : undefined
  const words = argv.filter((a, i) => a !== '--json' && i !== asAt && (asAt < 0 || i !== asAt + 1))
  const [cmd, arg, extra] = words
  switch (cmd) {
    case 'up': {
      if (arg === undefined || !isScenario(arg)) throw usage(`unknown scenario "${arg ?? ''}"`)
      const name = as ?? arg
      if (!NAME_RE.test(name)) throw usage(`a lab name must match ${NAME_RE}`)
      await requireLab()
      await down(name)
      const t0 = performance.now()
      const lab = await createLab(SCENARIOS[arg], { prefix: `${CLI_PREFIX_HEAD}${name}`, persistent: true })
      const ms = Math.round(performance.now() - t0)
      if (json)
        print(
          JSON.stringify({ name, scenario: arg, prefix: lab.prefix, hosts: lab.hosts, routers: lab.routers }),
        )
      else describeLab(lab, name, ms)
      return 0
    }
    case 'down': {
      if (arg !== undefined && !NAME_RE.test(arg)) throw usage(`a lab name must match ${NAME_RE}`)
      const removed = await down(arg)
      if (json) print(JSON.stringify({ removed }))
      else print(removed.length > 0 ? `removed ${removed.length} namespaces` : 'nothing to remove')
      return 0
    }
    case 'list': {
      const labs = [...cliLabs(await listNetns()).keys()]
      if (json) print(JSON.stringify({ labs }))
      else print(labs.length > 0 ? labs.join('\n') : 'no lab is up')
      return 0
    }
    case 'scenarios': {
      if (json) print(JSON.stringify(SCENARIOS))
      else for (const [name, spec] of Object.entries(SCENARIOS)) print(`${name}: ${JSON.stringify(spec)}`)
      return 0
    }
    case 'time': {
      const n = Number(extra ?? 5)
      if (!(Number.isInteger(n) && n >= 1)) throw usage('n must be a whole number >= 1')
      await requireLab()
      await time(arg ?? '', n, json)
      return 0
    }
  }
  throw usage(cmd === undefined ? 'no command given' : `unknown command "${cmd}"`)
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    process.stderr.write(`lab: ${e instanceof Error ? e.message : String(e)}\n`)
    process.exitCode = 1
  },
)
