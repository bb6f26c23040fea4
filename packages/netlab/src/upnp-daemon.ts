// Starting miniupnpd in a router and waiting until it serves (by its log lines, never a sleep).
import { mkdirSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { UPNP_READY_TIMEOUT_MS } from './constants.js'
import { startDetached } from './detached.js'
import { NetlabError } from './errors.js'
import { fatalPattern, miniupnpdConfig, readyPatterns } from './miniupnpd.js'
import type { PlannedNode } from './plan.js'
import type { ChildProcess } from './process.js'

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
  signal?: AbortSignal
}

export async function startMiniupnpd(opts: StartUpnpOptions): Promise<void> {
  const { node, dir, signal } = opts
  const mode = node.router?.upnp ?? 'none'
  mkdirSync(dir, { recursive: true })
  const conf = join(dir, 'miniupnpd.conf')
  const leaseFile = join(dir, 'leases')
  await writeFile(
    conf,
    miniupnpdConfig({ mode, index: opts.index, lanSubnet: node.lanSubnet ?? '', leaseFile }),
  )
  // -P: a pid file of its own (the default /var/run/miniupnpd.pid would make parallel routers refuse
  // to start: "already running")
  const argv = ['miniupnpd', '-d', '-f', conf, '-P', join(dir, 'miniupnpd.pid')]
  const bound = AbortSignal.timeout(UPNP_READY_TIMEOUT_MS)
  const waitSignal = signal ? AbortSignal.any([signal, bound]) : bound
  const fatal = fatalPattern(node.router?.behind !== undefined)
  const ready = readyPatterns(mode)
  try {
    if (opts.detached) {
      const log = join(dir, 'miniupnpd.log')
      await startDetached(node.name, [...opts.detached.argvPrefix, ...argv], log, ready, fatal, waitSignal)
    } else {
      await waitAttached(node.name, opts.spawn(argv), ready, fatal, waitSignal)
    }
  } catch (e) {
    if (signal?.aborted) throw NetlabError.ABORTED('createLab', signal.reason)
    throw e
  }
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
