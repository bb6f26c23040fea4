// Taking a lab down: its processes killed, its namespaces (with anything still running in them) and its
// temp directory deleted. `teardownLab` for close(); `teardownLabSync` for the exit and signal hooks,
// where nothing asynchronous runs any more (best effort).
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { KILL_WAIT_MS } from './constants.js'
import { removeNamespaces } from './leftovers.js'
import type { ChildProcess } from './process.js'

export interface LabRemains {
  /** the processes the lab started, daemons included */
  procs: readonly ChildProcess[]
  /** every namespace of the lab */
  namespaces: readonly string[]
  /** the lab's temp directory */
  tmp: string
}

/** SIGKILL to every process (waiting at most KILL_WAIT_MS for them to exit), then the namespaces and
 * the temp directory go. */
export async function teardownLab({ procs, namespaces, tmp }: LabRemains): Promise<void> {
  for (const p of procs) p.kill('SIGKILL')
  const bound = AbortSignal.timeout(KILL_WAIT_MS)
  await Promise.race([
    Promise.all(procs.map((p) => p.exited)),
    new Promise((resolve) => bound.addEventListener('abort', resolve, { once: true })),
  ])
  await removeNamespaces(namespaces)
  rmSync(tmp, { recursive: true, force: true })
}

/** The same, synchronously: for the 'exit' hook. */
export function teardownLabSync({ procs, namespaces, tmp }: LabRemains): void {
  for (const p of procs) p.kill('SIGKILL')
  for (const ns of namespaces) {
    const res = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
    for (const pid of (res.stdout ?? '').split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
  spawnSync('ip', ['-force', '-batch', '-'], { input: namespaces.map((n) => `netns del ${n}\n`).join('') })
  rmSync(tmp, { recursive: true, force: true })
}
