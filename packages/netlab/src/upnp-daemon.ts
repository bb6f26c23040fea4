// Starting miniupnpd in a router and waiting until it serves (by its log lines, never a sleep); what
// a restart must clear (stopping it is daemon.ts).
import { mkdirSync } from 'node:fs'
import { rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { inNetns, runOk } from './command.js'
import { UPNP_READY_TIMEOUT_MS } from './constants.js'
import type { Daemon } from './daemon.js'
import { startDetached } from './detached.js'
import { NetlabError } from './errors.js'
import { fatalPattern, miniupnpdConfig, readyPatterns } from './miniupnpd.js'
import type { PlannedNode } from './plan.js'
import type { ChildProcess } from './process.js'
import { upnpFlushScript } from './ruleset.js'

/** The files of one router's miniupnpd, in the router's own directory of the lab's temp directory. */
export function upnpFiles(dir: string): { conf: string; leases: string; pid: string; log: string } {
  return {
    conf: join(dir, 'miniupnpd.conf'),
    leases: join(dir, 'leases'),
    pid: join(dir, 'miniupnpd.pid'),
    log: join(dir, 'miniupnpd.log'),
  }
}

export interface StartUpnpOptions {
  node: PlannedNode
  /** the router's own directory in the lab's temp directory: config, leases, pid file, log */
  dir: string
  /** a number unique in the lab, for the device uuid */
  index: number
  /** persistent labs: a detached daemon that logs to a file (outlives this process) */
  detached?: { argvPrefix: string[] }
  /** attached daemons: starts argv in the router's namespace, tied to this process */
  spawn: (argv: string[]) => ChildProcess
  /** called as soon as the process exists (before it is ready), so a daemon that never gets ready
   * can still be stopped */
  onSpawn?: (daemon: Daemon) => void
  /** what the caller is doing, for ERR_ABORTED (default 'createLab') */
  what?: string
  signal?: AbortSignal
}

export async function startMiniupnpd(opts: StartUpnpOptions): Promise<Daemon> {
  const { node, dir, signal } = opts
  const mode = node.router?.upnp ?? 'none'
  mkdirSync(dir, { recursive: true })
  const files = upnpFiles(dir)
  await writeFile(
    files.conf,
    miniupnpdConfig({
      mode,
      index: opts.index,
      lanSubnet: node.lanSubnet ?? '',
      leaseFile: files.leases,
      ...(node.lanIp6 !== undefined ? { lanIp6: node.lanIp6 } : {}),
    }),
  )
  // -P: a pid file of its own (the default /var/run/miniupnpd.pid would make parallel routers refuse
  // to start: "already running")
  const argv = ['miniupnpd', '-d', '-f', files.conf, '-P', files.pid]
  const bound = AbortSignal.timeout(UPNP_READY_TIMEOUT_MS)
  const waitSignal = signal ? AbortSignal.any([signal, bound]) : bound
  // Node 20's any() holds its sources weakly: a GC could collect `bound` and the wait would never end
  // (nodejs/node#57736; @pyp2p/framing's anySignal). Held from the combination here.
  Object.defineProperty(waitSignal, 'bound', { value: bound })
  const fatal = fatalPattern(node.router?.behind !== undefined)
  const ready = readyPatterns(mode)
  try {
    if (opts.detached) {
      return await startDetached(
        node.name,
        [...opts.detached.argvPrefix, ...argv],
        files.log,
        ready,
        fatal,
        waitSignal,
        opts.onSpawn,
      )
    }
    const proc = opts.spawn(argv)
    opts.onSpawn?.(proc)
    await waitAttached(node.name, proc, ready, fatal, waitSignal)
    return proc
  } catch (e) {
    if (signal?.aborted) throw NetlabError.ABORTED(opts.what ?? 'createLab', signal.reason)
    throw e
  }
}

/**
 * Deletes what a router reboot loses but miniupnpd keeps across a restart (measured with 2.3.1): its
 * lease file (reloaded when it starts, mappings and all), its nft rules (left in place when it exits)
 * and a pid file a killed daemon left behind. Call it while no miniupnpd runs in the router.
 */
export async function clearUpnpState(ns: string, dir: string, signal?: AbortSignal): Promise<void> {
  const files = upnpFiles(dir)
  await Promise.all([rm(files.leases, { force: true }), rm(files.pid, { force: true })])
  await runOk(inNetns(ns, ['nft', '-f', '-']), { input: upnpFlushScript(), ...(signal ? { signal } : {}) })
}

async function waitAttached(
  router: string,
  proc: ChildProcess,
  ready: RegExp[],
  fatalLine: RegExp,
  signal: AbortSignal,
): Promise<void> {
  const fatal = proc.waitForStderr(fatalLine, { signal }).then((line) => {
    throw NetlabError.UPNP_FAILED(router, line)
  })
  try {
    await Promise.race([Promise.all(ready.map((p) => proc.waitForStderr(p, { signal }))), fatal])
  } catch (e) {
    if (e instanceof NetlabError && e.code === 'ERR_UPNP_FAILED') throw e
    throw NetlabError.UPNP_FAILED(router, proc.stderr().trim() || (e as Error).message, e)
  } finally {
    fatal.catch(() => {})
  }
}
