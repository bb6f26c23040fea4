// Lab names, and removal of what labs of dead processes left behind (namespaces, processes, files).
import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import debug from 'debug'
import { run } from './command.js'
import { CLI_PREFIX_HEAD, PREFIX_HEAD, TMP_DIR_NAME } from './constants.js'

const log = debug('pyp2p:netlab:leftovers')

/** `nl<pid>-<4 hex>`: the pid tells a later start whether the creator still lives. */
export function newPrefix(): string {
  return `${PREFIX_HEAD}${process.pid}-${randomBytes(2).toString('hex')}`
}

const PREFIX_RE = new RegExp(`^(${PREFIX_HEAD}(\\d+)-[0-9a-f]{4})-`)
const TMP_RE = new RegExp(`^(${PREFIX_HEAD}(\\d+)-[0-9a-f]{4})$`)

export function labTmpRoot(): string {
  return join(tmpdir(), TMP_DIR_NAME)
}

/** Parses `ip netns list` output (`name (id: 3)` or `name`). */
export function parseNetnsList(out: string): string[] {
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '')
}

export async function listNetns(): Promise<string[]> {
  const res = await run(['ip', 'netns', 'list'])
  return res.code === 0 ? parseNetnsList(res.stdout) : []
}

/** Start time of a live process in clock ticks since boot, or undefined when it is gone. */
function processStart(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // field 22 (starttime), counted after the command name, which may contain spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[19])
  } catch {
    return undefined
  }
}

function bootTimeMs(): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('btime '))
  return Number(line?.split(' ')[1] ?? 0) * 1000
}

/** Whether the process that made a file (a namespace's /run/netns entry, a lab's temp directory) is
 * still alive, by the pid in its name: a live pid that started after the file was made is a reused
 * pid, so the creator is dead. */
export function creatorAlive(pid: number, file: string): boolean {
  const start = processStart(pid)
  if (start === undefined) return false
  try {
    const created = statSync(file).mtimeMs
    // USER_HZ is 100 on every Linux architecture the project runs on; 1 s covers btime's rounding
    const startedMs = bootTimeMs() + (start / 100) * 1000
    return startedMs <= created + 1000
  } catch {
    return true
  }
}

/** Kills what still runs in the given namespaces (only ever namespaces this package names) and
 * deletes them. Returns the namespaces deleted. */
export async function removeNamespaces(names: readonly string[]): Promise<void> {
  if (names.length === 0) return
  await Promise.all(
    names.map(async (ns) => {
      const res = await run(['ip', 'netns', 'pids', ns])
      for (const pid of res.stdout.split(/\s+/).filter(Boolean).map(Number)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // already gone
        }
      }
    }),
  )
  const res = await run(['ip', '-force', '-batch', '-'], {
    input: names.map((n) => `netns del ${n}\n`).join(''),
  })
  if (res.code !== 0) log('netns del: %s', res.stderr.trim())
}

/** Removes the namespaces and temp directories of labs whose creating process has died.
 * Labs of live processes (parallel test files) and CLI labs (`nlcli-`) are left alone. */
export async function sweepLeftovers(): Promise<string[]> {
  const dead = new Set<string>()
  const doomed: string[] = []
  for (const ns of await listNetns()) {
    const m = PREFIX_RE.exec(ns)
    if (!m || ns.startsWith(CLI_PREFIX_HEAD)) continue
    const prefix = m[1] as string
    const pid = Number(m[2])
    if (pid === process.pid || creatorAlive(pid, `/run/netns/${ns}`)) continue
    dead.add(prefix)
    doomed.push(ns)
  }
  // temp directories whose namespaces are already gone (a crash between the two removals)
  let dirs: string[] = []
  try {
    dirs = readdirSync(labTmpRoot())
  } catch {
    // no lab has run here yet
  }
  for (const dir of dirs) {
    const m = TMP_RE.exec(dir)
    if (!m) continue
    const pid = Number(m[2])
    if (pid !== process.pid && !creatorAlive(pid, join(labTmpRoot(), dir))) dead.add(dir)
  }
  if (doomed.length > 0) {
    log('removing leftovers of dead labs: %o', [...dead])
    await removeNamespaces(doomed)
  }
  for (const prefix of dead) rmSync(join(labTmpRoot(), prefix), { recursive: true, force: true })
  return [...dead]
}
