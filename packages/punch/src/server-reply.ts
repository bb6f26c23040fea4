/**
 * What the server's replies mean to a client: which reply each command expects (the protocol gives
 * every command exactly one, in order), and how an `ERROR` line becomes a `PunchError`.
 */
import type { ClientMessage, ErrorMessage, ServerMessage } from '@pyp2p/rendezvous-protocol'
import { PunchError, type PunchStage } from './errors.js'

/** The reply type each request may get besides `ERROR` (PROTOCOL.md, "Client -> server"). */
export const REPLY_TYPES: Partial<Record<ClientMessage['type'], ServerMessage['type']>> = {
  BOOTSTRAP: 'NODES',
  READY: 'OK',
  SOURCE: 'REMOTE',
  CANDIDATE: 'PREDICTION_SET',
  ACCEPT: 'FIGHT',
  REJECT: 'OK',
  CLEAR: 'OK',
  CHECK: 'REACHABLE',
  INBOUND: 'OK',
  PING: 'PONG',
}

/** Maps a server `ERROR` to a `PunchError`: the punch verdicts get their own codes. */
export function errorFromServer(stage: PunchStage, err: ErrorMessage): PunchError {
  switch (err.code) {
    case 'ERR_PUNCH_REJECTED':
      return PunchError.PUNCH_REJECTED(err.text)
    case 'ERR_PEER_GONE':
      return PunchError.PEER_GONE(err.text)
    case 'ERR_SIGNATURE_REQUIRED':
      return PunchError.SIGNATURE_REQUIRED(stage, err.text)
    case 'ERR_PUNCH_TIMEOUT':
      return new PunchError(
        'ERR_TIMEOUT',
        'coordination',
        `the target did not answer in time (server: ${err.text})`,
        {
          serverCode: err.code,
        },
      )
    default:
      return PunchError.SERVER_ERROR(stage, err.code, err.text)
  }
}
