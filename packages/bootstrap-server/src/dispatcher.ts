/**
 * Command dispatch: a line that passed the flood limit goes to the service that owns its first word,
 * or is parsed as a rendezvous command, its proof of ownership checked (ownership.ts), and handled
 * (commands.ts). A `CHECK` holds back the lines after
 * it until its reply is out, so every connection's replies stay in order.
 */
import { formatError, isRendezvousProtocolError, parseClientMessage } from '@pyp2p/rendezvous-protocol'
import { handleCommand } from './commands.js'
import type { Connection } from './connection.js'
import type { CommandContext } from './context.js'
import type { DialBack } from './dial-back.js'
import type { Logger } from './logger.js'
import { bindProven, type Ownership } from './ownership.js'
import type { ServiceRegistry } from './service-registry.js'

export class Dispatcher {
  readonly #ctx: CommandContext
  readonly #services: ServiceRegistry
  readonly #dialBack: DialBack
  readonly #log: Logger
  readonly #ownership: Ownership

  constructor(
    ctx: CommandContext,
    services: ServiceRegistry,
    dialBack: DialBack,
    log: Logger,
    ownership: Ownership,
  ) {
    this.#ctx = ctx
    this.#services = services
    this.#dialBack = dialBack
    this.#log = log
    this.#ownership = ownership
  }

  /** A whole line from `conn`, already counted against its flood limit. */
  onLine(conn: Connection, line: string): void {
    // Counted against the flood limit now; handled once the running CHECK has its reply out.
    if (conn.deferred !== undefined) conn.deferred.push(line)
    else this.#dispatch(conn, line)
  }

  /** `CHECK`: reads nothing more from `conn` until the dial-back's reply is sent (replies stay in order). */
  check(conn: Connection, port: number, nonce: string): void {
    let resume: (() => void) | undefined
    const started = this.#dialBack.check(conn, port, nonce, (reply) => {
      conn.send(reply)
      resume?.()
    })
    if (started) resume = this.hold(conn)
  }

  /**
   * Holds back `conn`'s lines (socket paused) until the returned function runs; then they are handled
   * in order (one of them may hold the connection again). The function is safe to call once only.
   */
  hold(conn: Connection): () => void {
    conn.deferred = []
    conn.socket.pause()
    let done = false
    return () => {
      if (done) return
      done = true
      this.#resume(conn)
    }
  }

  #resume(conn: Connection): void {
    const lines = conn.deferred ?? []
    conn.deferred = undefined
    for (let i = 0; i < lines.length; i++) {
      if (conn.closing) return
      this.#dispatch(conn, lines[i] as string)
      // (#dispatch may have held the connection again, setting conn.deferred.)
      const waiting = conn.deferred as string[] | undefined
      if (waiting !== undefined) {
        // Another waiting command among them: the rest waits for its reply in turn.
        waiting.push(...lines.slice(i + 1))
        return
      }
    }
    if (!conn.closing) conn.socket.resume()
  }

  /** Runs `fn` for `conn`; a throw is a bug of ours or a service's: logged, `ERR_INTERNAL` to the client. */
  guard(conn: Connection, fn: () => void): void {
    try {
      fn()
    } catch (error) {
      this.#log.error('internal error handling a line', { conn: conn.id, error: (error as Error).stack })
      conn.sendError('ERR_INTERNAL', 'internal server error')
    }
  }

  /** One line that passed the flood check: to a service, or parsed as a rendezvous command. */
  #dispatch(conn: Connection, line: string): void {
    const { maxLineLength } = this.#ctx.opts
    const service = this.#services.owner(line)
    if (service !== undefined) {
      const limit = service.maxLineLength ?? maxLineLength
      if (line.length > limit) conn.close('ERR_LINE_TOO_LONG', `line over ${limit} characters`)
      else this.guard(conn, () => service.handleLine(conn, line))
      return
    }
    if (line.length > maxLineLength) {
      conn.close('ERR_LINE_TOO_LONG', `line over ${maxLineLength} characters`)
      return
    }
    let msg: ReturnType<typeof parseClientMessage>
    try {
      msg = parseClientMessage(line, { maxLineLength })
    } catch (error) {
      if (!isRendezvousProtocolError(error)) throw error
      conn.send(formatError(error.code, error.message))
      return
    }
    // A proof that does not hold refuses the command before anything changes. A valid one binds its
    // node id to this connection (ownership.ts); `proven` tells the handlers the command acts as an
    // id proven here, by its own proof or an earlier one on this connection.
    let proven = false
    if (msg.type === 'READY' || msg.type === 'CANDIDATE' || msg.type === 'CLEAR') {
      if (msg.proof !== undefined) {
        const refusal = this.#ownership.refusal(conn.id, msg)
        if (refusal !== undefined) {
          conn.sendError('ERR_BAD_SIGNATURE', `proof refused: ${refusal}; nothing changed`)
          return
        }
        bindProven(conn, msg.nodeId as string)
        proven = true
      } else {
        proven = msg.nodeId !== undefined && msg.nodeId === conn.provenId
      }
    }
    this.guard(conn, () => handleCommand(this.#ctx, conn, msg, proven))
  }
}
