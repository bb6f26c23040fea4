// A daemon the lab started (attached: a ChildProcess; detached: a process that outlives this one) and
// how it is stopped again (restartUpnp's first step).
import { NetlabError } from './errors.js'

/** A long-running process the lab started and may have to stop, e.g. a router's miniupnpd. */
export interface Daemon {
  readonly pid: number
  /** settles when the process has exited */
  readonly exited: Promise<unknown>
  /** a no-op once it has exited */
  kill(signal: NodeJS.Signals): void
}

/** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves once it has exited. */
export async function stopDaemon(
  router: string,
  daemon: Daemon,
  graceMs: number,
  signal?: AbortSignal,
): Promise<void> {
  daemon.kill('SIGTERM')
  if (await exitedWithin(daemon, graceMs, signal)) return
  daemon.kill('SIGKILL')
  if (await exitedWithin(daemon, graceMs, signal)) return
  throw NetlabError.TIMEOUT(`stopping miniupnpd (pid ${daemon.pid}) in router "${router}"`, 2 * graceMs)
}

/** true once the daemon exited, false after `ms`; rejects on abort. Its timer is cleared on every path. */
function exitedWithin(daemon: Daemon, ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false
    const done = (fn: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const onAbort = (): void => done(() => reject(NetlabError.ABORTED('restartUpnp', signal?.reason)))
    const timer = setTimeout(() => done(() => resolve(false)), ms)
    if (signal?.aborted) return onAbort()
    signal?.addEventListener('abort', onAbort, { once: true })
    void daemon.exited.then(() => done(() => resolve(true)))
  })
}
