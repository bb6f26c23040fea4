import { once } from 'node:events'
import type { Net } from '../src/index.js'

/** Bound for every wait in these tests: a hung test fails instead of hanging. */
export const WAIT_MS = 15_000

/**
 * Resolves once `check()` holds, re-checking whenever one of `nets` reports a connection joining or
 * leaving; rejects after `timeout` ms with `what`.
 */
export function until(nets: Net[], check: () => boolean, what: string, timeout = WAIT_MS): Promise<void> {
  if (check()) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onEvent = (): void => {
      if (!check()) return
      cleanup()
      resolve()
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`timed out waiting for ${what}`))
    }, timeout)
    const cleanup = (): void => {
      clearTimeout(timer)
      for (const n of nets) {
        n.off('connection', onEvent)
        n.off('disconnect', onEvent)
      }
    }
    for (const n of nets) {
      n.on('connection', onEvent)
      n.on('disconnect', onEvent)
    }
  })
}

/** The next `connection` event of `net`, bounded. */
export async function nextConnection(net: Net, timeout = WAIT_MS) {
  const [con, info] = await once(net, 'connection', { signal: AbortSignal.timeout(timeout) })
  return { con, info } as {
    con: import('@pyp2p/framing').LineSocket
    info: import('../src/index.js').PeerInfo
  }
}
