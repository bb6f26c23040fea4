/**
 * The seam for hole punching: `connect()` calls an injected Puncher when both nodes are simultaneous.
 * @pyp2p/punch provides the implementation (through the rendezvous server); this package only defines
 * what it must do.
 */
import type { LineSocket } from '@pyp2p/framing'
import type { UNL } from './unl.js'

export interface PunchRequest {
  ours: UNL
  theirs: UNL
  /** The connection nonce both sides use to recognise this attempt (64 hex characters). */
  nonce: string
  /** Whether we are the master of the pair (the larger UNL), e.g. to pick who initiates. */
  master: boolean
  signal: AbortSignal
}

export interface Puncher {
  /** A connection to `theirs` by TCP hole punching; rejects (with its own typed error) on failure. */
  punch(request: PunchRequest): Promise<LineSocket>
}
