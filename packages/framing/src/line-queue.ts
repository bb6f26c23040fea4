/**
 * FIFO of received lines waiting for a reader. An array with a moving head: `shift()` is O(1) (plain
 * `Array#shift` is O(n) on large arrays) and the array is compacted once half of it is consumed.
 * Tracks the total string length so the socket can be paused on size as well as on count.
 */
export class LineQueue {
  #items: (string | undefined)[] = []
  #head = 0
  #chars = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  /** Sum of the queued lines' `.length` (UTF-16 code units). */
  get chars(): number {
    return this.#chars
  }

  push(line: string): void {
    this.#items.push(line)
    this.#chars += line.length
  }

  shift(): string | undefined {
    if (this.#head === this.#items.length) return undefined
    const line = this.#items[this.#head] as string
    this.#items[this.#head] = undefined
    this.#head++
    this.#chars -= line.length
    if (this.#head === this.#items.length) this.clear()
    else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
    return line
  }

  clear(): void {
    this.#items = []
    this.#head = 0
    this.#chars = 0
  }
}
