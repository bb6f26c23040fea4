/**
 * What every scenario of bench/src/attack.ts shares: the lab's prefixes, worker processes in the lab
 * namespace, a deadline per scenario (a scenario that cannot finish is a failure row, never a hang),
 * percentiles and RSS.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Lab, LabProcess } from '@pyp2p/netlab'

const HERE = dirname(fileURLToPath(import.meta.url))
export const SERVER_BIN = join(HERE, '..', '..', 'packages', 'bootstrap-server', 'dist', 'bin.js')
/** The namespace every process of the bench runs in. */
export const ARENA = 'arena'
/** the server's or target node's, the legitimate clients' and the attacker's prefixes */
export const PREFIXES = [
  '10.7.7.0/24',
  '10.8.8.0/24',
  '10.9.9.0/24',
  'fd00:7::/64',
  'fd00:8::/64',
  'fd00:9::/64',
]
export const TARGET = { v4: '10.7.7.1', v6: 'fd00:7::1' } as const
export type Family = 'v4' | 'v6'

/** The `n`-th address of the legitimate clients' prefix. */
export function legitAddress(family: Family, n: number): string {
  return family === 'v6' ? `fd00:8::${(n % 200) + 1}` : `10.8.8.${(n % 200) + 1}`
}

/** True for an address of the attacker's prefixes (10.9.9.0/24, fd00:9::/64, IPv4-mapped included). */
export function isAttacker(address: string | undefined): boolean {
  const a = (address ?? '').replace(/^::ffff:/, '')
  return a.startsWith('10.9.9.') || a.startsWith('fd00:9:')
}

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}

export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN // the process is gone
  }
}

/** Adds `n` to `codes[code]`. */
export function count(codes: Record<string, number>, code: string, n = 1): void {
  codes[code] = (codes[code] ?? 0) + n
}

/** The stable code of an error, else its first words. */
export function codeOf(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown }
  return typeof e.code === 'string' ? e.code : String(e.message ?? error).slice(0, 40)
}

/** `bench/src/attack.ts --worker <role> ...args` in the arena, with `ulimit -n 20000`. */
export function spawnWorker(lab: Lab, role: string, args: readonly (string | number)[]): LabProcess {
  const entry = join(HERE, 'attack.ts')
  const argv = [process.execPath, '--import', 'tsx', '--conditions=@pyp2p/source', entry, '--worker', role]
  const cmd = [...argv, ...args.map(String)].map((a) => `"${a}"`).join(' ')
  return lab.spawn(ARENA, ['sh', '-c', `ulimit -n 20000 && exec ${cmd}`], { cwd: join(HERE, '..') })
}

/** The last JSON line a worker printed that has `key`, or undefined. */
export function lastReport<T>(p: LabProcess, key: string): T | undefined {
  const lines = p.stdout().trim().split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] as string
    if (!line.includes(`"${key}"`)) continue
    try {
      return JSON.parse(line) as T
    } catch {}
  }
  return undefined
}

/** Stops processes a scenario started (by PID, SIGKILL when one has not ended within 5 s). */
export async function stopAll(procs: readonly (LabProcess | undefined)[]): Promise<void> {
  await Promise.all(
    procs.map(async (p) => {
      if (p === undefined) return
      p.kill('SIGTERM')
      const t = setTimeout(() => p.kill('SIGKILL'), 5_000)
      await p.exited.catch(() => undefined)
      clearTimeout(t)
    }),
  )
}

export type Row = Record<string, unknown>
/** A scenario: its row; every process it starts goes into `started` (stopped when it ends). */
export type ScenarioRun = (signal: AbortSignal, started: LabProcess[]) => Promise<Row>

/**
 * Runs one scenario within `ms`: its row, or a failure row naming the scenario and why (its own
 * `cleanup` stops whatever it started, on success, failure and timeout alike).
 */
export async function bounded(name: string, ms: number, run: ScenarioRun): Promise<Row> {
  const started: LabProcess[] = []
  const ac = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`did not finish within ${ms / 1000} s`))
      ac.abort() // after the rejection, so the row says why
    }, ms)
  })
  try {
    return await Promise.race([run(ac.signal, started), deadline])
  } catch (error) {
    return { scenario: name, failed: codeOf(error) }
  } finally {
    clearTimeout(timer)
    ac.abort()
    await stopAll(started)
  }
}
