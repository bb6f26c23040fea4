/**
 * The relay glue: builds the embedded @pyp2p/dht-msg relay (unless `relay: false`) and the embedded
 * @pyp2p/relay circuit relay (unless `circuitRelay: false`), puts them before the user's services, and
 * answers which service owns a line's first word. It also derives what the
 * services change about every connection: the words appended to `HELLO` and the framing limit.
 */
import type { Socket } from 'node:net'
import { RelayServer } from '@pyp2p/dht-msg/server'
import type { Clock } from '@pyp2p/limits'
import { CircuitRelay } from '@pyp2p/relay'
import type { Connection } from './connection.js'
import { HARD_LINE_LIMIT_FACTOR } from './constants.js'
import { BootstrapServerError } from './errors.js'
import type { ResolvedOptions } from './options.js'
import type { RendezvousService, ServiceConnection } from './service.js'

export class ServiceRegistry {
  /** The embedded relay (same port), unless the `relay` option is false. */
  readonly relay: RelayServer | undefined
  /** The embedded circuit relay (same port), unless the `circuitRelay` option is false. */
  readonly circuitRelay: CircuitRelay | undefined
  /** Appended to `HELLO PYP2P/1 <ip> <port>`: a space and the services' words, or nothing. */
  readonly helloSuffix: string
  /** Framing limit: lines past it are cut off unread (4x the protocol limit, or a service's limit). */
  readonly hardLineLimit: number
  readonly #byWord = new Map<string, RendezvousService>()
  /** Services that own at least one word, each once: they hear of closing connections and shutdown. */
  readonly #handlers: readonly RendezvousService[]

  /** Throws `ERR_INVALID_OPTION` when two services claim one command word (the relay is closed then). */
  constructor(opts: ResolvedOptions, clock: Clock, onLimit: (limit: string, prefix: string) => void) {
    const { relay } = opts
    // The relay's expiry and rate limits follow the server's clock unless its own options name one;
    // its limits are counted with the server's (as relay.<name>).
    this.relay =
      relay === false ? undefined : new RelayServer({ clock, onLimit, ...(relay === true ? {} : relay) })
    const circuit = opts.circuitRelay
    this.circuitRelay =
      circuit === false ? undefined : new CircuitRelay({ clock, ...(circuit === true ? {} : circuit) })
    const all: RendezvousService[] = [...opts.services]
    if (this.circuitRelay !== undefined) all.unshift(this.circuitRelay.service(takeOver))
    if (this.relay !== undefined) all.unshift(this.relay.service())
    const ext: string[] = []
    for (const service of all) {
      for (const word of service.commands) {
        const other = this.#byWord.get(word)
        if (other !== undefined) {
          void this.relay?.close()
          this.circuitRelay?.close()
          throw BootstrapServerError.INVALID_OPTION(
            'services',
            service.name,
            `services whose commands do not overlap (${word} is also ${other.name}'s; relay: false turns the embedded relay off)`,
          )
        }
        this.#byWord.set(word, service)
      }
      ext.push(...(service.helloExtensions ?? []))
    }
    this.#handlers = [...new Set(this.#byWord.values())]
    this.helloSuffix = ext.length > 0 ? ` ${ext.join(' ')}` : ''
    this.hardLineLimit = Math.max(
      opts.maxLineLength * HARD_LINE_LIMIT_FACTOR,
      ...all.map((s) => s.maxLineLength ?? 0),
    )
  }

  /** The service whose command word starts `line`, if any. */
  owner(line: string): RendezvousService | undefined {
    if (this.#byWord.size === 0) return undefined
    const space = line.indexOf(' ')
    return this.#byWord.get(space === -1 ? line : line.slice(0, space))
  }

  /** Tells every service a connection closed; `guard` runs each call so one service's bug stays its own. */
  connectionClosed(conn: ServiceConnection, guard: (fn: () => void) => void): void {
    for (const service of this.#handlers) guard(() => service.connectionClosed?.(conn))
  }

  /** Closes every service, then the relays (a relay never handed a connection still has its timer). */
  async close(): Promise<void> {
    for (const service of this.#handlers) await service.close?.()
    await this.relay?.close()
    this.circuitRelay?.close()
  }
}

/**
 * A connection whose line asked for a circuit (`CIRCUIT CONNECT` / `CIRCUIT ACCEPT`) becomes one end of
 * it: the listener reads nothing more of it (`closing`: its decoder and flood limit are done; the
 * client sends nothing after that line until the relay's `OK`), no idle timeout applies (`hold`), and
 * the circuit relay gets the socket, paused. It keeps its slot in the connection table (a circuit
 * counts against its IP's and prefix's connection limits) until the socket closes, when the listener
 * forgets it as usual.
 */
function takeOver(service: ServiceConnection): Socket {
  return (service as Connection).detach()
}
