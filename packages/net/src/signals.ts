/**
 * Opt-in: stop a Net when the process is asked to end. The original installed a SIGINT handler in
 * `start()`; a library should not take over process-wide signals by default, so this is a helper.
 */

export interface StopOnSignalsOptions {
  /** Default `['SIGINT', 'SIGTERM']`. */
  signals?: readonly NodeJS.Signals[]
  /**
   * Exit code after stopping. Default: 130 for SIGINT, 143 for SIGTERM (128 + the signal number),
   * `false` to not exit (the caller decides).
   */
  exitCode?: number | false
}

/**
 * On the first of `signals`, calls `stop()` on each target and then exits; returns the function that
 * removes the handlers. A second signal while stopping exits at once.
 */
export function stopOnSignals(
  targets: { stop(): Promise<void> } | readonly { stop(): Promise<void> }[],
  options: StopOnSignalsOptions = {},
): () => void {
  const list = Array.isArray(targets) ? targets : [targets as { stop(): Promise<void> }]
  const signals = options.signals ?? ['SIGINT', 'SIGTERM']
  let stopping = false
  const handler = (signal: NodeJS.Signals): void => {
    const code = options.exitCode ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1)
    if (stopping) {
      if (code !== false) process.exit(code)
      return
    }
    stopping = true
    void Promise.allSettled(list.map((t) => t.stop())).then(() => {
      if (code !== false) process.exit(code)
    })
  }
  for (const s of signals) process.on(s, handler)
  return () => {
    for (const s of signals) process.off(s, handler)
  }
}
