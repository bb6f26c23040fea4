/**
 * The seam for hole punching: `connect()` calls an injected Puncher when both nodes are simultaneous,
 * and hands the connections peers punch to us to `handleIncoming`. `RendezvousPuncher` implements it
 * with @pyp2p/punch through a rendezvous server; tests can inject their own.
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

/** A connection a peer punched to us. */
export interface PunchedConnection {
  connection: LineSocket
  /** The peer's node id as the rendezvous server named it (unverified; the hello line says it too). */
  nodeId?: string
}

export interface Puncher {
  /**
   * A connection to `theirs` by TCP hole punching; rejects (with its own typed error) on failure.
   * Return it as punched, nothing sent: the connector passes it through its outbound step (the hello
   * with `nonce`, upgrade.ts) like every connection it makes.
   */
  punch(request: PunchRequest): Promise<LineSocket>
  /**
   * Optional: deliver the connections peers punch to us (the target side) until `signal` fires. The
   * connector calls it once, at construction, and serves each like an accepted connection: its inbound
   * step reads the connect hello, then it emits `connection` with `method: 'punch'`.
   */
  listen?(onConnection: (punched: PunchedConnection) => void, signal: AbortSignal): void
}
