/**
 * What a Net adds to its connections' lives beyond the set's rules: the server events forwarded from
 * the session, a relayed connection moving to a direct or punched one (the connector's `upgrade`
 * event, @pyp2p/unl relay-lines.ts: `net.info(con)` then reports the new method and address, and the
 * Net emits `upgrade`), and why a connection closed (`PeerInfo.code` on `disconnect`).
 */
import type { LineSocket } from '@pyp2p/framing'
import type { PeerInfo } from './peer-info.js'
import { forwardServerEvents, type ServerEvents } from './session.js'
import type { NetResources } from './start.js'

export interface RelayUpgradeEvents {
  /** A relayed connection now runs on a direct or punched connection (same object; `info.method` says which). */
  upgrade: [connection: LineSocket, info: PeerInfo]
}

interface Emitter {
  emit<K extends keyof (ServerEvents & RelayUpgradeEvents)>(
    event: K,
    ...args: (ServerEvents & RelayUpgradeEvents)[K]
  ): boolean
}

/** Forwards the session's server events and follows relay upgrades, for the life of `res`. */
export function followNode(
  res: Partial<NetResources>,
  net: Emitter,
  infoOf: (con: LineSocket) => PeerInfo | undefined,
): void {
  if (res.session !== undefined) forwardServerEvents(res.session, net)
  res.connector?.on('upgrade', ({ connection, method, host, port }) => {
    const info = infoOf(connection)
    if (info === undefined) return
    info.reason = `${info.reason}; then moved from its ${info.method} to a ${method} connection`
    Object.assign(info, { method, host, port })
    net.emit('upgrade', connection, info)
  })
}

/** `info` with the code of the error that closed `con`, when one did (`ERR_CIRCUIT_LIMIT`...). */
export function withCloseCode(con: LineSocket, info: PeerInfo): PeerInfo {
  const code = (con.closeInfo?.error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') info.code = code
  return info
}
