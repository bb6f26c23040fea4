/**
 * The listener's side of the bootstrap server's reachability check (`CHECK TCP <port> <nonce>`): the
 * probe connection is recognised by its first line and dropped before it could be taken for a peer.
 */
import type { Socket } from 'node:net'
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
   * Reads an accepted socket's first bytes before anything else does, until they are a dial-back
   * probe's line or cannot be one. A probe is counted, closed and `undefined` returned instead of an
   * error; anything else gets its bytes put back (`unshift`) and `next` (the upgrade: handshake, hello)
   * runs on the untouched socket. Every honest peer speaks first (a prologue or a hello), so this waits
   * for one chunk; `signal` bounds it (then `next` runs with what came, and fails by itself).
   */
  async screen<T>(
    socket: Socket,
    signal: AbortSignal,
    next: (signal: AbortSignal) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const { head, nonce } = await readHead(socket, signal)
    if (nonce !== undefined) {
      const entry = this.#expected.get(nonce)
      if (entry !== undefined) {
        entry.seen = true
        entry.wake?.()
      }
      this.#dropped++
      socket.destroy()
      return undefined
    }
    if (head.length > 0 && !socket.readableEnded && !socket.destroyed) socket.unshift(head)
    return next(signal)
  }
}

/** The first bytes of `socket`, read until they decide (see `screen`); the socket is left paused. */
function readHead(socket: Socket, signal: AbortSignal): Promise<{ head: Buffer; nonce?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let text = ''
    const done = (nonce?: string): void => {
      socket.pause()
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('close', onEnd)
      signal.removeEventListener('abort', onEnd)
      resolve({ head: Buffer.concat(chunks), ...(nonce !== undefined && { nonce }) })
    }
    const onEnd = (): void => done()
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk
      chunks.push(bytes)
      text += bytes.toString('latin1')
      if (!mayBeDialBack(text)) {
        done()
        return
      }
      const end = text.indexOf('\n')
      if (end === -1) {
        if (text.length > MAX_DIAL_BACK_LINE_LENGTH + 2) done()
        return
      }
      try {
        done(parseDialBackLine(text.slice(0, end).replace(/\r$/, '')))
      } catch {
        done() // starts like a probe but is not one: `next` decides what it is
      }
    }
    if (signal.aborted || socket.destroyed) {
      done()
      return
    }
    socket.on('data', onData)
    socket.once('end', onEnd)
    socket.once('close', onEnd)
    signal.addEventListener('abort', onEnd, { once: true })
  })
}
