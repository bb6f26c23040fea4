/**
 * A Net's life: new → starting → started → stopped (never started again), the resources `start()`
 * gathered, the signal that fires at `stop()`, and the typed errors of calls made in the wrong state.
 */

import { anySignal } from '@pyp2p/framing'
import type { RendezvousSession } from '@pyp2p/punch'
import { NetError } from './errors.js'
import type { NetResources, StartReport } from './start.js'

export type NetState = 'new' | 'starting' | 'started' | 'stopped'

export class NetLife {
  state: NetState = 'new'
  /** Filled in as `start()` goes (start.ts), so a failed start is released like a finished one. */
  res: Partial<NetResources> | undefined
  /** Aborted at `stop()`: ends every wait of the Net. */
  readonly closing = new AbortController()

  /** The resources of a started Net; throws `ERR_NOT_STARTED` or `ERR_STOPPED` naming `what`. */
  started(what: string): NetResources {
    if (this.state === 'stopped') throw NetError.STOPPED(what)
    if (this.state !== 'started' || this.res === undefined) throw NetError.NOT_STARTED(what)
    return this.res as NetResources
  }

  /** The start report, also after `stop()`; throws `ERR_NOT_STARTED` before `start()` made it. */
  report(what: string): StartReport {
    const report = this.res?.report
    if (report === undefined) throw NetError.NOT_STARTED(what)
    return report
  }

  /** The bootstrap session; throws `ERR_NO_SERVER` when the Net has none. */
  session(res: NetResources): RendezvousSession {
    if (res.session === undefined) throw NetError.NO_SERVER([])
    return res.session
  }

  /** `signal` joined with the Net's own (fires at `stop()`). */
  signal(signal: AbortSignal | undefined): AbortSignal {
    return anySignal(signal, this.closing.signal)
  }
}
