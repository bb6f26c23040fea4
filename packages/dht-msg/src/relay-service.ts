/**
 * The relay as a command family on another server's connections (`RelayServer.service()`), in the
 * shape of bootstrap-server's `RendezvousService`, declared here so neither package imports the other.
 */
import { RELAY_PROTOCOL } from './constants.js'
import { type RelayLink, type SharedConnection, sharedLink } from './relay-link.js'
import type { RelaySession } from './relay-session.js'

/** The commands a server sharing its connections hands to the relay (see `RelayServer.service()`). */
export const SERVICE_COMMANDS: readonly string[] = ['RELAY', 'AUTH', 'SEND', 'ACK']

/** bootstrap-server's `RendezvousService` shape, declared here so neither package imports the other. */
export interface RelayService {
  readonly name: string
  readonly commands: readonly string[]
  /**
   * Longest relay line (the relay's `maxLineLength`, 8192 by default). The host must accept lines this
   * long for these commands: a `SEND` of a 4 KiB message is about 5.5 KB, far over bootstrap-server's
   * 1,024-character limit for its own lines.
   */
  readonly maxLineLength: number
  readonly helloExtensions: readonly string[]
  handleLine(connection: SharedConnection, line: string): void
  connectionClosed(connection: SharedConnection): void
  close(): Promise<void>
}

/** What the service needs from the relay server. */
export interface ServiceHost {
  readonly maxLineLength: number
  /** A session for a new connection, or undefined (and the link closed) when the relay refuses it. */
  open(link: RelayLink): RelaySession | undefined
  /** The connection closed. */
  dropped(session: RelaySession): void
  close(): Promise<void>
}

export function relayService(host: ServiceHost): RelayService {
  const sessions = new Map<SharedConnection, RelaySession>()
  return {
    name: 'dht-msg',
    commands: SERVICE_COMMANDS,
    maxLineLength: host.maxLineLength,
    helloExtensions: [RELAY_PROTOCOL],
    handleLine: (conn, line) => {
      let session = sessions.get(conn)
      if (session === undefined) {
        session = host.open(sharedLink(conn))
        if (session === undefined) return
        sessions.set(conn, session)
      }
      session.onLine(line)
    },
    connectionClosed: (conn) => {
      const session = sessions.get(conn)
      if (session === undefined) return
      sessions.delete(conn)
      host.dropped(session)
    },
    close: () => host.close(),
  }
}
