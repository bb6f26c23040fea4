/**
 * Replies matched to requests: the rendezvous protocol gives every client command exactly one reply,
 * in order, so the oldest request waiting is the one the next reply answers. Each wait is bounded by a
 * timeout and the caller's signal; a request given up on keeps its slot (its reply may still come and
 * must not be taken for the next request's).
 */
import type { ClientMessage, ServerMessage } from '@pyp2p/rendezvous-protocol'
import { REPLY_TIMEOUT_MS } from './constants.js'
import { PunchError, type PunchStage } from './errors.js'
import { errorFromServer, REPLY_TYPES } from './server-reply.js'

export interface RequestOptions {
  signal?: AbortSignal
  /** Default {@link REPLY_TIMEOUT_MS}. */
  timeout?: number
}

interface Pending {
  request: ClientMessage
  resolve(msg: ServerMessage): void
  reject(err: Error): void
}

export class ReplyQueue {
  readonly #pending: Pending[] = []
  readonly #stage: PunchStage

  constructor(stage: PunchStage) {
    this.#stage = stage
  }

  /** The request the next reply answers. */
  get head(): ClientMessage | undefined {
    return this.#pending[0]?.request
  }

  /**
   * Queues `msg`, calls `send` (which throws when the line cannot be written) and resolves with its
   * reply; `ERROR` replies become `PunchError`s, a reply of the wrong type `ERR_PROTOCOL`.
   */
  expect(msg: ClientMessage, send: () => void, options: RequestOptions = {}): Promise<ServerMessage> {
    const { signal, timeout = REPLY_TIMEOUT_MS } = options
    const stage = this.#stage
    if (signal?.aborted) return Promise.reject(PunchError.ABORTED(stage, signal.reason))
    const expected = REPLY_TYPES[msg.type]
    return new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle()
        reject(PunchError.TIMEOUT(stage, `reply to ${msg.type}`, timeout))
      }, timeout)
      const onAbort = (): void => {
        settle()
        reject(PunchError.ABORTED(stage, signal?.reason))
      }
      let done = false
      const settle = (): void => {
        done = true
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#pending.push({
        request: msg,
        resolve: (reply) => {
          if (done) return
          settle()
          if (reply.type === 'ERROR') return reject(errorFromServer(stage, reply))
          if (reply.type !== expected) {
            return reject(
              PunchError.PROTOCOL(stage, `expected ${expected} after ${msg.type}, got ${reply.type}`),
            )
          }
          resolve(reply)
        },
        reject: (err) => {
          if (done) return
          settle()
          reject(err)
        },
      })
      try {
        send()
      } catch (err) {
        this.#pending.pop()
        settle()
        reject(err)
      }
    })
  }

  /** Hands `msg` to the oldest request; false when none waits. */
  deliver(msg: ServerMessage): boolean {
    const pending = this.#pending.shift()
    if (pending === undefined) return false
    pending.resolve(msg)
    return true
  }

  /** Fails the oldest request (its reply was unreadable). */
  failNext(err: Error): void {
    this.#pending.shift()?.reject(err)
  }

  /** Fails every request (the connection closed). */
  failAll(err: Error): void {
    for (const p of this.#pending.splice(0)) p.reject(err)
  }
}

export interface BootstrapOptions extends RequestOptions {
  /**
   * Also return nodes whose registration the server could not prove (v1 clients on a server run with
   * `--allow-unsigned`): their ids may be claimed by anyone. Default false: skipped.
   */
  includeUnproven?: boolean
}
