// Labs still open when their process ends are removed on the way out: on 'exit', and on SIGTERM,
// SIGINT and SIGHUP (vitest's worker pool ends its workers with SIGTERM, after which Node runs no
// 'exit' handler). The signal handlers exist only while a lab is open, and re-raise the signal when
// nothing else handles it, so the process still ends as it would have.

export interface SyncClosable {
  closeSync(): void
}

const SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP']
/** Module state on purpose: exit and signal handlers are per process. */
const open = new Set<SyncClosable>()

function closeAll(): void {
  for (const lab of [...open]) lab.closeSync()
  open.clear()
}

function onSignal(signal: NodeJS.Signals): void {
  closeAll()
  uninstall()
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function install(): void {
  process.on('exit', closeAll)
  for (const s of SIGNALS) process.on(s, onSignal)
}

function uninstall(): void {
  process.removeListener('exit', closeAll)
  for (const s of SIGNALS) process.removeListener(s, onSignal)
}

export function trackOpenLab(lab: SyncClosable): void {
  if (open.size === 0) install()
  open.add(lab)
}

export function untrackOpenLab(lab: SyncClosable): void {
  if (!open.delete(lab)) return
  if (open.size === 0) uninstall()
}
