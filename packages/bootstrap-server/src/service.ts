/**
 * The seam for other command families on the same connections and port (the dht-msg relay of a later
 * issue). A service names the command words it owns; the server hands it every line starting with one of
 * them, unparsed, and tells it when a connection closes. Everything else stays the rendezvous protocol's.
 */

/** What a service may do with a connection. */
export interface ServiceConnection {
  /** Unique per server run. */
  readonly id: number
  /** The client's IP as the server sees it (IPv4-mapped IPv6 shown as IPv4). */
  readonly ip: string
  readonly port: number
  readonly isOpen: boolean
  /** Sends one line; `false` when it could not be sent (closed, or the client does not read). */
  send(line: string): boolean
  /** Sends `ERROR <code> <text>` (text cleaned to fit the protocol). */
  sendError(code: string, text: string): void
  /** Closes the connection, after `ERROR <code> <text>` when a code is given. */
  close(code?: string, text?: string): void
  /** While held, the idle timeout does not apply (e.g. a relay client waiting for messages). */
  hold(held: boolean): void
}

export interface RendezvousService {
  /** For logs. */
  readonly name: string
  /** First words of the lines this service handles, e.g. `['MSG', 'AUTH']`. Must not be protocol commands. */
  readonly commands: readonly string[]
  /**
   * Longest line this service accepts (default: the server's `maxLineLength`, 1,024). The server's
   * framing limit grows to fit it; rendezvous lines keep their own limit.
   */
  readonly maxLineLength?: number
  /** Words appended to every `HELLO` so clients learn the service is here, e.g. `['RELAY/1']`. */
  readonly helloExtensions?: readonly string[]
  /** One line (without terminator) whose first word is one of `commands`. Must not throw. */
  handleLine(connection: ServiceConnection, line: string): void
  /** The connection closed; drop whatever the service keeps for it. */
  connectionClosed?(connection: ServiceConnection): void
  /** The server is closing. */
  close?(): void | Promise<void>
}
