/**
 * The original's `broadcast`: a line to every connection but its source; a failed send is logged. A
 * line goes out at most once per node: the original recognised repeated messages by their SHA-256 and
 * did not send them again, so a line flooded through a net with cycles (a triangle) stops instead of
 * circling for ever. The memory of lines sent is bounded ({@link RelayedLines}).
 */
import { createHash } from 'node:crypto'
import type { LineSocket } from '@pyp2p/framing'
import type createDebug from 'debug'
import { BROADCAST_MEMORY } from './constants.js'
import { NetError } from './errors.js'

/**
 * The SHA-256 digests of the last `capacity` distinct lines broadcast (sent or relayed): a line is
 * recognised as a repeat while its digest is among them; the oldest is forgotten first. About 100
 * bytes per line remembered (a 44-character digest in a `Set`), whatever the line's length.
 */
export class RelayedLines {
  readonly #seen = new Set<string>()
  readonly capacity: number

  constructor(capacity = BROADCAST_MEMORY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw NetError.INVALID_OPTION('capacity', capacity, 'an integer >= 1')
    this.capacity = capacity
  }

  /** Lines remembered now (at most `capacity`). */
  get size(): number {
    return this.#seen.size
  }

  /** Whether `line` was remembered (sent or relayed) and not forgotten since. */
  has(line: string): boolean {
    return this.#seen.has(digest(line))
  }

  /** Remembers `line`: true when it is new, false for a repeat (which is then not sent again). */
  remember(line: string): boolean {
    const d = digest(line)
    if (this.#seen.has(d)) return false
    this.#seen.add(d)
    if (this.#seen.size > this.capacity) {
      const oldest = this.#seen.values().next().value as string
      this.#seen.delete(oldest)
    }
    return true
  }
}

function digest(line: string): string {
  return createHash('sha256').update(line, 'utf8').digest('base64')
}

export function broadcastLine(
  connections: readonly LineSocket[],
  line: string,
  source: LineSocket | undefined,
  log: createDebug.Debugger,
): number {
  let n = 0
  for (const con of connections) {
    if (con === source) continue
    try {
      con.sendLine(line)
      n++
    } catch (err) {
      log('broadcast: %s', (err as Error).message)
    }
  }
  return n
}
