import type { Duplex } from 'node:stream'
import type { CloseInfo } from './close-info.js'
import { LINE_DELIMITER } from './constants.js'
import { FramingError } from './errors.js'

/** What the sender needs from the connection it writes for. */
export interface LineSenderHooks {
  /** Why the connection closed, or `undefined` while it is open. */
  closeInfo(): CloseInfo | undefined
  /** Ends the connection because a send limit was hit (`ERR_SEND_BUFFER_FULL`). */
  fail(error: FramingError): void
}

/**
 * The send path of a `LineSocket`: checks each line, bounds the unsent bytes, writes the line and its
 * delimiter (lines sent in one tick leave in one writev), and waits for the send buffer to drain.
 */
export class LineSender {
  readonly #socket: Duplex
  readonly #maxLineLength: number
  readonly #maxSendBuffer: number
  readonly #hooks: LineSenderHooks
  /** Pending `drain()` calls, rejected by `shutdown()`. */
  readonly #onShutdown = new Set<() => void>()
  #corked = false

  constructor(
    socket: Duplex,
    limits: { maxLineLength: number; maxSendBuffer: number },
    hooks: LineSenderHooks,
  ) {
    this.#socket = socket
    this.#maxLineLength = limits.maxLineLength
    this.#maxSendBuffer = limits.maxSendBuffer
    this.#hooks = hooks
  }

  /** `LineSocket#sendLine`: writes `text` + `\r\n`; `false` means wait for `drain()`. */
  send(text: string): boolean {
    this.#check(text)
    this.#reserve(text.length + LINE_DELIMITER.length)
    return this.#write(text + LINE_DELIMITER)
  }

  /** `LineSocket#sendLines`: every line is checked before any is written, then all leave in one write. */
  sendMany(texts: readonly string[]): boolean {
    let length = 0
    for (const text of texts) {
      this.#check(text)
      length += text.length + LINE_DELIMITER.length
    }
    if (length === 0) return !this.#socket.writableNeedDrain
    this.#reserve(length)
    return this.#write(texts.join(LINE_DELIMITER) + LINE_DELIMITER)
  }

  #check(text: string): void {
    const closed = this.#hooks.closeInfo()
    if (closed !== undefined || !this.#socket.writable) {
      throw FramingError.CONNECTION_CLOSED(closed?.error)
    }
    if (text.includes('\n') || text.includes('\r')) throw FramingError.INVALID_LINE()
    const max = this.#maxLineLength
    // A UTF-8 encoding is at least as long as the string and at most 3 bytes per UTF-16 unit.
    if (text.length > max || (text.length * 3 > max && Buffer.byteLength(text) > max)) {
      throw FramingError.LINE_TOO_LONG(max)
    }
  }

  #reserve(length: number): void {
    if (this.#socket.writableLength + length > this.#maxSendBuffer) {
      const error = FramingError.SEND_BUFFER_FULL(this.#maxSendBuffer)
      this.#hooks.fail(error)
      throw error
    }
  }

  #write(data: string): boolean {
    // Lines sent in the same tick leave in one writev instead of one syscall each.
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      process.nextTick(this.#uncork)
    }
    return this.#socket.write(data)
  }

  #uncork = (): void => {
    this.#corked = false
    this.#socket.uncork()
  }

  /** `LineSocket#drain`: resolves below the high-water mark; rejects on close or abort. */
  drain(signal?: AbortSignal): Promise<void> {
    const closed = this.#hooks.closeInfo()
    if (closed !== undefined) return Promise.reject(FramingError.CONNECTION_CLOSED(closed.error))
    if (signal?.aborted) return Promise.reject(FramingError.ABORTED(signal.reason))
    if (!this.#socket.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.#socket.off('drain', onDrain)
        signal?.removeEventListener('abort', onAbort)
        this.#onShutdown.delete(onShutdown)
      }
      const onDrain = (): void => {
        cleanup()
        resolve()
      }
      const onAbort = (): void => {
        cleanup()
        reject(FramingError.ABORTED(signal?.reason))
      }
      const onShutdown = (): void => {
        cleanup()
        reject(FramingError.CONNECTION_CLOSED(this.#hooks.closeInfo()?.error))
      }
      this.#socket.on('drain', onDrain)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#onShutdown.add(onShutdown)
    })
  }

  /** The connection is ending: every pending `drain()` rejects with `ERR_CONNECTION_CLOSED`. */
  shutdown(): void {
    for (const fn of [...this.#onShutdown]) fn()
  }
}
