/**
 * What `for await (const con of net)` and `net.synchronize()` wait on: connections joining and
 * leaving, and data arriving on any connection. Every wait ends at `stop()`.
 */
import type { LineSocket } from '@pyp2p/framing'
import { NetError } from './errors.js'

export class NetIterator {
  readonly #subscribers = new Set<(con: LineSocket | undefined) => void>()
  #ended = false

  /** A connection joined. */
  push(con: LineSocket): void {
    for (const fn of [...this.#subscribers]) fn(con)
  }

  /** Something changed (a connection left). */
  wake(): void {
    for (const fn of [...this.#subscribers]) fn(undefined)
  }

  /** The net stopped: iterations end, waits resolve false. */
  end(): void {
    this.#ended = true
    this.wake()
  }

  /** Yields `initial`, then every connection pushed, until `end()`. Subscribes at once. */
  iterate(initial: LineSocket[], closing: AbortSignal): AsyncIterator<LineSocket> {
    const queue = [...initial]
    let wakeUp: (() => void) | undefined
    const sub = (con: LineSocket | undefined): void => {
      if (con !== undefined) queue.push(con)
      wakeUp?.()
    }
    this.#subscribers.add(sub)
    const onClose = (): void => sub(undefined)
    closing.addEventListener('abort', onClose, { once: true })
    const cleanup = (): void => {
      this.#subscribers.delete(sub)
      closing.removeEventListener('abort', onClose)
    }
    const self = this
    async function* run(): AsyncGenerator<LineSocket> {
      try {
        for (;;) {
          for (let con = queue.shift(); con !== undefined; con = queue.shift()) if (con.isOpen) yield con
          if (self.#ended || closing.aborted) return
          await new Promise<void>((resolve) => {
            wakeUp = resolve
          })
          wakeUp = undefined
        }
      } finally {
        cleanup()
      }
    }
    return run()
  }

  /**
   * Resolves true at the next activity (data on one of `cons`, a connection joining or leaving), false
   * after `timeout` ms or when the net stops; rejects with `ERR_ABORTED` when `signal` fires.
   */
  activity(
    cons: LineSocket[],
    signal: AbortSignal | undefined,
    closing: AbortSignal,
    timeout?: number,
  ): Promise<boolean> {
    if (this.#ended || closing.aborted) return Promise.resolve(false)
    if (signal?.aborted) return Promise.reject(NetError.ABORTED(signal.reason))
    return new Promise((resolve, reject) => {
      const timer = timeout === undefined ? undefined : setTimeout(() => done(false), timeout)
      const onData = (): void => done(true)
      const sub = (con: LineSocket | undefined): void => done(con !== undefined || !this.#ended)
      const onAbort = (): void => {
        cleanup()
        reject(NetError.ABORTED(signal?.reason))
      }
      const onClose = (): void => done(false)
      const cleanup = (): void => {
        clearTimeout(timer)
        this.#subscribers.delete(sub)
        for (const c of cons) c.socket.off('data', onData)
        signal?.removeEventListener('abort', onAbort)
        closing.removeEventListener('abort', onClose)
      }
      const done = (value: boolean): void => {
        cleanup()
        resolve(value)
      }
      this.#subscribers.add(sub)
      for (const c of cons) c.socket.on('data', onData)
      signal?.addEventListener('abort', onAbort, { once: true })
      closing.addEventListener('abort', onClose, { once: true })
    })
  }
}
