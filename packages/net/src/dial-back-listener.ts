/**
 * The listener's side of the bootstrap server's reachability check (`CHECK TCP <port> <nonce>`): the
 * probe connection is recognised by its first line and dropped before it could be taken for a peer.
 */
import type { LineSocket } from '@pyp2p/framing'
import { MAX_DIAL_BACK_LINE_LENGTH, mayBeDialBack, parseDialBackLine } from '@pyp2p/rendezvous-protocol'

/**
 * Our listener's side of a dial-back: recognises the server's probe connection by its first line
 * (`PYP2P-DIALBACK/1 <nonce>`), drops it without counting or logging it as a peer, and tells the probe
 * that its nonce arrived.
 */
export class DialBackListener {
  readonly #expected = new Map<string, { seen: boolean; wake: (() => void) | undefined }>()
  #dropped = 0

  /** Probe connections recognised and dropped so far. */
  get dropped(): number {
    return this.#dropped
  }

  /** Starts waiting for `nonce` (call before asking the server, so an early arrival is kept). */
  expect(nonce: string): void {
    this.#expected.set(nonce, { seen: false, wake: undefined })
  }

  /** Resolves true once `nonce` arrived (maybe already), false when `signal` fires first. Forgets it. */
  async arrived(nonce: string, signal: AbortSignal): Promise<boolean> {
    const entry = this.#expected.get(nonce)
    if (entry === undefined) return false
    try {
      if (entry.seen) return true
      if (signal.aborted) return false
      return await new Promise<boolean>((resolve) => {
        const onAbort = (): void => resolve(false)
        entry.wake = () => {
          signal.removeEventListener('abort', onAbort)
          resolve(true)
        }
        signal.addEventListener('abort', onAbort, { once: true })
      })
    } finally {
      this.#expected.delete(nonce)
    }
  }

  /** Stops waiting for `nonce`. */
  forget(nonce: string): void {
    this.#expected.delete(nonce)
  }

  /**
   * Runs `next` (the normal handling of an accepted connection: reading its hello) unless the
   * connection turns out to be a dial-back probe: then `next` is aborted, the connection closed, and
   * `undefined` returned instead of an error. Watches only the first line, and only while it can
   * still be a probe.
   */
  async screen<T>(
    con: LineSocket,
    signal: AbortSignal,
    next: (signal: AbortSignal) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const probe = new AbortController()
    const socket = con.socket
    let head = ''
    let nonce: string | undefined
    // Prepended, so it sees the bytes before the LineSocket turns them into the line `next` waits for.
    const onData = (chunk: Buffer | string): void => {
      head += typeof chunk === 'string' ? chunk : chunk.toString('latin1')
      if (!mayBeDialBack(head)) {
        stop()
        return
      }
      const end = head.indexOf('\n')
      if (end === -1) {
        if (head.length > MAX_DIAL_BACK_LINE_LENGTH + 2) stop()
        return
      }
      stop()
      try {
        nonce = parseDialBackLine(head.slice(0, end).replace(/\r$/, ''))
      } catch {
        return // starts like a probe but is not one: `next` decides what it is
      }
      const entry = this.#expected.get(nonce)
      if (entry !== undefined) {
        entry.seen = true
        entry.wake?.()
      }
      probe.abort()
    }
    const stop = (): void => {
      socket.off('data', onData)
    }
    socket.prependListener('data', onData)
    try {
      return await next(AbortSignal.any([signal, probe.signal]))
    } catch (err) {
      if (nonce === undefined) throw err
      this.#dropped++
      con.close()
      return undefined
    } finally {
      stop()
    }
  }
}
