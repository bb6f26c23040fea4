/**
 * Received bytes not consumed yet, as a list of chunks: taking a frame copies only when it spans chunks.
 */

export class ByteQueue {
  #chunks: Buffer[] = []
  #length = 0

  get length(): number {
    return this.#length
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return
    this.#chunks.push(chunk)
    this.#length += chunk.length
  }

  /** The first `n` bytes (at most `length`), without consuming them. */
  peek(n: number): Buffer {
    const first = this.#chunks[0]
    if (first === undefined) return Buffer.alloc(0)
    if (first.length >= n) return first.subarray(0, n)
    return Buffer.concat(this.#chunks, Math.min(n, this.#length)).subarray(0, n)
  }

  /** The unsigned 16-bit big-endian number at the front; call only when `length >= 2`. */
  peekUInt16BE(): number {
    const first = this.#chunks[0] as Buffer
    if (first.length >= 2) return first.readUInt16BE(0)
    return this.peek(2).readUInt16BE(0)
  }

  /** Removes and returns the first `n` bytes; call only when `length >= n`. */
  take(n: number): Buffer {
    const first = this.#chunks[0] as Buffer
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n)
      this.#length -= n
      return first.subarray(0, n)
    }
    if (first.length === n) {
      this.#chunks.shift()
      this.#length -= n
      return first
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer
      const used = Math.min(chunk.length, n - filled)
      chunk.copy(out, filled, 0, used)
      filled += used
      if (used === chunk.length) this.#chunks.shift()
      else this.#chunks[0] = chunk.subarray(used)
    }
    this.#length -= n
    return out
  }

  /** Everything left, emptying the queue. */
  drain(): Buffer {
    const all = this.#chunks.length === 1 ? (this.#chunks[0] as Buffer) : Buffer.concat(this.#chunks)
    this.#chunks = []
    this.#length = 0
    return all
  }
}
