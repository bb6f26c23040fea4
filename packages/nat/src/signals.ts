// Opt-in clean-up on SIGINT/SIGTERM. A library must not install process handlers by itself, so
// nothing here runs unless the application calls removeMappingsOnExit().
import createDebug from 'debug'

const debug = createDebug('pyp2p:nat')

export interface ExitCleanupOptions {
  /** default ['SIGINT', 'SIGTERM'] */
  signals?: readonly NodeJS.Signals[]
  /** longest wait for the routers before exiting anyway, ms; default 5000 */
  timeout?: number
}

/**
 * On the first of `signals`: closes `client` (which removes its mappings), then re-raises the
 * signal with our handlers gone, so the process ends the way it would have without us (or as the
 * application's other handlers decide). Returns a function that removes the handlers.
 */
export function removeMappingsOnExit(
  client: { close(): Promise<void> },
  opts: ExitCleanupOptions = {},
): () => void {
  const signals = opts.signals ?? ['SIGINT', 'SIGTERM']
  const timeout = opts.timeout ?? 5_000
  let fired = false
  const detach = () => {
    for (const s of signals) process.removeListener(s, handler)
  }
  function handler(signal: NodeJS.Signals): void {
    if (fired) return
    fired = true
    debug('%s: removing port mappings before exiting', signal)
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout)
    })
    void Promise.race([client.close(), bound]).finally(() => {
      clearTimeout(timer)
      detach()
      process.kill(process.pid, signal)
    })
  }
  for (const s of signals) process.on(s, handler)
  return detach
}
