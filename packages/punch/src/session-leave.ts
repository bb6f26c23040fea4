/**
 * Leaving a rendezvous server for good: `CLEAR <node-id> <clear-token>` (the server forgets the
 * registration, whichever connection made it) then `QUIT`, each bounded. When the connection had
 * dropped, the `CLEAR` goes on a new one; the token makes that work without registering again.
 */
import createDebug from 'debug'
import type { RendezvousClient } from './rendezvous-client.js'
import type { Registrar } from './session-registrar.js'

const log = createDebug('pyp2p:punch:session')

export interface LeaveHost {
  registrar: Registrar
  /** Whether a registration is to be cleared. */
  registered: boolean
  open(options: { signal: AbortSignal }): Promise<RendezvousClient>
  /** The connection in use, if any. */
  current(): RendezvousClient | undefined
}

/** Never rejects: a failure is logged (the server's node lifetime ends the registration then). */
export async function leaveServer(h: LeaveHost, timeout: number): Promise<void> {
  const signal = AbortSignal.timeout(timeout)
  try {
    if (h.registered) {
      try {
        await h.registrar.clear(await h.open({ signal }), signal, timeout)
      } catch (err) {
        // A server verdict (e.g. ERR_NO_SUCH_NODE: the registration had expired) is final. Otherwise
        // the connection closed under us (the server's idle timeout races us): once more, on a new one.
        if ((err as { serverCode?: unknown }).serverCode !== undefined) throw err
        log('CLEAR failed (%s): clearing on a new connection', (err as Error).message)
        h.current()?.close()
        await h.registrar.clear(await h.open({ signal }), signal, timeout)
      }
    }
    await h.current()?.quit({ timeout })
  } catch (err) {
    log('leaving the rendezvous server: %s', (err as Error).message)
  }
}
