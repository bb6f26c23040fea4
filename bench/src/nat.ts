/**
 * Port mapping latency against a real router daemon (miniupnpd 2.3.1 in the NAT lab), for
 * @pyp2p/nat (PCP, NAT-PMP, UPnP) and for the reference C clients `upnpc` (miniupnpc) and `natpmpc`
 * (libnatpmp), in each router mode: IGD v2 + NAT-PMP/PCP, IGD v1 only, NAT-PMP/PCP only, and nothing.
 * (No C PCP client is packaged for Debian, so PCP has no reference row.)
 *
 *   npm run bench:nat -- [--runs 5]
 *
 * How each figure is taken (median of `runs`):
 * - @pyp2p/nat runs in one Node process inside the lab host (this file with `--agent`), timing
 *   `discover()` (PCP ANNOUNCE + NAT-PMP probe to the default gateway and SSDP on every interface,
 *   returning a short grace after the first answer), then `map()` and `unmap()`, each from a fresh
 *   client. The `default` row uses the default preference (PCP, then NAT-PMP, then UPnP); the
 *   `pcp`/`natpmp`/`upnp` rows give the client that one protocol only (`methods: [...]`), so their
 *   discovery asks only that protocol.
 * - The C clients are timed as whole processes started in the lab host (`ip netns exec`), so their
 *   figures include process start; the `exec overhead` row (`true` run the same way) says how much.
 *   upnpc: discover = `upnpc -P` (SSDP, default 2 s wait, + description), map = `upnpc -u <url> -a`
 *   (description + AddPortMapping), unmap = `upnpc -u <url> -d`. natpmpc: discover = `natpmpc -g <gw>`
 *   (external address), map/unmap = `natpmpc -g <gw> -a` (external address + mapping request).
 *
 * Writes bench/results/nat.json: `{ runs, rows: [{ mode, client, discoverMs, mapMs, unmapMs, note }], raw }`.
 */

import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { NatClient, NatError } from '@pyp2p/nat'
import { createLab, type Lab, labReadiness, type UpnpMode } from '@pyp2p/netlab'
import { printTable, writeResults } from './report.js'

const median = (xs: number[]): number | undefined => {
  if (xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2
}

interface Sample {
  discoverMs?: number
  mapMs?: number
  unmapMs?: number
  error?: string
}

type Method = 'pcp' | 'natpmp' | 'upnp'
const VARIANTS = ['default', 'pcp', 'natpmp', 'upnp'] as const
type Variant = (typeof VARIANTS)[number]
/** Which of our variants each router mode can answer (the others only show the failure). */
const VARIANTS_FOR: Record<UpnpMode, readonly Variant[]> = {
  'igd2+natpmp': VARIANTS,
  igd2: ['default', 'upnp'],
  igd1: ['default', 'upnp'],
  natpmp: ['default', 'pcp', 'natpmp'],
  none: ['default'],
}

/** The part that runs inside the lab host: one JSON line per run. */
async function agent(runs: number, basePort: number, variant: Variant): Promise<void> {
  const methods: Method[] | undefined = variant === 'default' ? undefined : [variant]
  for (let i = 0; i < runs; i++) {
    const nat = new NatClient({ timeout: 2_000, ...(methods ? { methods } : {}) })
    const sample: Sample = {}
    try {
      let t = performance.now()
      await nat.discover()
      sample.discoverMs = performance.now() - t
      t = performance.now()
      const m = await nat.map({ internalPort: basePort + i, ttl: 600, description: 'pyp2p-bench' })
      sample.mapMs = performance.now() - t
      t = performance.now()
      await nat.unmap(m)
      sample.unmapMs = performance.now() - t
    } catch (err) {
      sample.error = err instanceof NatError ? err.code : String(err)
    } finally {
      await nat.close()
    }
    process.stdout.write(`${JSON.stringify(sample)}\n`)
  }
}

async function timed(lab: Lab, host: string, argv: string[], timeout = 10_000) {
  const t = performance.now()
  const r = await lab
    .exec(host, argv, { timeout })
    .catch((err: unknown) => ({ code: -1, stdout: '', stderr: String(err) }))
  return { ms: performance.now() - t, ok: r.code === 0, out: r.stdout + r.stderr }
}

async function bench(mode: UpnpMode, runs: number) {
  const lab = await createLab({
    routers: { r1: { nat: 'cone', upnp: mode } },
    hosts: { alice: { router: 'r1' } },
  })
  const rows: Array<Record<string, unknown>> = []
  const raw: Record<string, unknown> = {}
  try {
    const me = lab.host('alice').ip
    const gw = lab.router('r1').lanIp
    const url = lab.router('r1').upnpUrl

    for (const [n, variant] of VARIANTS_FOR[mode].entries()) {
      const p = lab.spawnNode('alice', fileURLToPath(import.meta.url), [
        '--agent',
        String(runs),
        String(31000 + n * 100),
        variant,
      ])
      await p.exited
      const ours = p
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Sample)
      raw[`pyp2p-${variant}`] = ours
      const pick = (k: keyof Sample) =>
        median(ours.map((s) => s[k]).filter((v): v is number => typeof v === 'number'))
      const errors = [...new Set(ours.map((s) => s.error).filter(Boolean))]
      rows.push({
        mode,
        client: `@pyp2p/nat ${variant}`,
        discoverMs: pick('discoverMs'),
        mapMs: pick('mapMs'),
        unmapMs: pick('unmapMs'),
        note: errors.join(' ') || 'ok',
      })
    }

    const overhead: number[] = []
    for (let i = 0; i < runs; i++) overhead.push((await timed(lab, 'alice', ['true'])).ms)
    raw.overhead = overhead

    if (mode !== 'natpmp') {
      const s: { d: number[]; m: number[]; u: number[]; fail: string[] } = { d: [], m: [], u: [], fail: [] }
      for (let i = 0; i < runs; i++) {
        const d = await timed(lab, 'alice', ['upnpc', '-P'])
        s.d.push(d.ms)
        if (!d.ok || url === undefined) {
          s.fail.push('no IGD')
          continue
        }
        const port = String(32000 + i)
        const m = await timed(lab, 'alice', [
          'upnpc',
          '-u',
          url,
          '-e',
          'upnpc-bench',
          '-a',
          me,
          port,
          port,
          'TCP',
          '600',
        ])
        if (m.ok && /is redirected/.test(m.out)) s.m.push(m.ms)
        else s.fail.push('map failed')
        const u = await timed(lab, 'alice', ['upnpc', '-u', url, '-d', port, 'TCP'])
        if (u.ok) s.u.push(u.ms)
      }
      raw.upnpc = s
      rows.push({
        mode,
        client: 'upnpc',
        discoverMs: median(s.d),
        mapMs: median(s.m),
        unmapMs: median(s.u),
        note: [...new Set(s.fail)].join(' ') || 'ok',
      })
    }
    if (mode !== 'igd1') {
      const s: { d: number[]; m: number[]; u: number[]; fail: string[] } = { d: [], m: [], u: [], fail: [] }
      // natpmpc retries for about a minute when nobody answers: one bounded try is enough to show it.
      for (let i = 0; i < (mode === 'none' ? 1 : runs); i++) {
        const d = await timed(lab, 'alice', ['natpmpc', '-g', gw], 5_000)
        s.d.push(d.ms)
        if (!d.ok) {
          s.fail.push(d.ms >= 5_000 ? 'no answer in 5 s (killed)' : 'no NAT-PMP')
          continue
        }
        const port = String(33000 + i)
        const m = await timed(lab, 'alice', ['natpmpc', '-g', gw, '-a', port, port, 'tcp', '600'])
        if (m.ok) s.m.push(m.ms)
        const u = await timed(lab, 'alice', ['natpmpc', '-g', gw, '-a', port, port, 'tcp', '0'])
        if (u.ok) s.u.push(u.ms)
      }
      raw.natpmpc = s
      rows.push({
        mode,
        client: 'natpmpc',
        discoverMs: median(s.d),
        mapMs: median(s.m),
        unmapMs: median(s.u),
        note: [...new Set(s.fail)].join(' ') || 'ok',
      })
    }
    rows.push({
      mode,
      client: '(exec overhead)',
      discoverMs: median(overhead),
      note: '`true` via ip netns exec',
    })
    const leftovers = await lab.upnpMappings('r1')
    if (leftovers.length > 0) throw new Error(`mappings left behind in ${mode}: ${JSON.stringify(leftovers)}`)
  } finally {
    await lab.close()
  }
  return { rows, raw }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } })
  const runs = Number(values.runs)
  const ready = await labReadiness()
  if (!ready.ok) throw new Error(`the NAT lab is not available here: ${ready.reason}`)
  const rows: Array<Record<string, unknown>> = []
  const raw: Record<string, unknown> = {}
  for (const mode of ['igd2+natpmp', 'igd1', 'natpmp', 'none'] as const) {
    const r = await bench(mode, runs)
    rows.push(...r.rows)
    raw[mode] = r.raw
  }
  printTable(
    `NAT port mapping against miniupnpd 2.3.1, median of ${runs} runs (ms); C clients include process start`,
    rows,
  )
  const file = await writeResults('nat', { runs, date: new Date().toISOString(), rows, raw })
  console.log(`\nwrote ${file}`)
}

if (process.argv[2] === '--agent')
  await agent(Number(process.argv[3]), Number(process.argv[4]), (process.argv[5] ?? 'default') as Variant)
else await main()
