// A daemon that outlives this process (labs brought up by the CLI): its output goes to a log file, and
// readiness is the log file gaining the awaited lines, watched with fs.watch (an event, not a poll).
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, watch } from 'node:fs'
import type { Daemon } from './daemon.js'
import { NetlabError } from './errors.js'

export function startDetached(
  label: string,
  argv: readonly string[],
  logFile: string,
  ready: readonly RegExp[],
  fatal: RegExp,
  signal: AbortSignal,
  onSpawn?: (daemon: Daemon) => void,
): Promise<Daemon> {
  const [file, ...args] = argv
  if (file === undefined) return Promise.reject(NetlabError.INVALID_SPEC('empty command'))
  const fd = openSync(logFile, 'w')
  const child = spawn(file, args, { detached: true, stdio: ['ignore', fd, fd] })
  closeSync(fd)
  child.unref()
  // 'close' also comes when the process could not be started at all
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const daemon: Daemon = {
    pid: child.pid ?? -1,
    exited,
    kill: (sig) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig)
    },
  }
  onSpawn?.(daemon)
  return new Promise<Daemon>((resolve, reject) => {
    const watcher = watch(logFile)
    const finish = (fn: () => void): void => {
      watcher.close()
      signal.removeEventListener('abort', onAbort)
      child.removeListener('exit', onExit)
      fn()
    }
    const check = (): boolean => {
      const text = readFileSync(logFile, 'utf8')
      const bad = text.split('\n').find((l) => fatal.test(l))
      if (bad !== undefined) finish(() => reject(NetlabError.UPNP_FAILED(label, bad)))
      else if (ready.every((r) => r.test(text))) finish(() => resolve(daemon))
      else return false
      return true
    }
    const onExit = (code: number | null): void => {
      if (!check())
        finish(() =>
          reject(NetlabError.UPNP_FAILED(label, `exited (${code}): ${readFileSync(logFile, 'utf8')}`)),
        )
    }
    const onAbort = (): void => {
      finish(() =>
        reject(NetlabError.UPNP_FAILED(label, `not ready: ${readFileSync(logFile, 'utf8')}`, signal.reason)),
      )
    }
    watcher.on('change', check)
    child.on('exit', onExit)
    signal.addEventListener('abort', onAbort, { once: true })
    check()
  })
}
