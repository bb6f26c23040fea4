/**
 * Random hex ids from a pool of CSPRNG bytes (issue 12): a `randomBytes()` call per punch id cost about
 * as much server CPU as the rest of creating the punch (a native call, a job object and a buffer each
 * time). Taking the bytes from a block fetched 256 ids at a time gives the same ids (uniform, from the
 * same CSPRNG, never reused) for a fraction of the cost, as Node's own `crypto.randomUUID()` does.
 */
import { randomBytes } from 'node:crypto'
import { RANDOM_ID_POOL_IDS } from './constants.js'

export class RandomIds {
  readonly #bytesPerId: number
  readonly #poolBytes: number
  #pool: Buffer
  #offset: number

  /** Ids of `hexLength` hex digits (even). */
  constructor(hexLength: number) {
    this.#bytesPerId = hexLength / 2
    this.#poolBytes = this.#bytesPerId * RANDOM_ID_POOL_IDS
    this.#pool = Buffer.alloc(0)
    this.#offset = 0
  }

  /** The next id: `hexLength` lower-case hex digits, each byte used once. */
  next(): string {
    if (this.#offset + this.#bytesPerId > this.#pool.length) {
      // A fresh block each time (not refilled in place): no id shares bytes with an earlier one.
      this.#pool = randomBytes(this.#poolBytes)
      this.#offset = 0
    }
    const start = this.#offset
    this.#offset += this.#bytesPerId
    return this.#pool.toString('hex', start, this.#offset)
  }
}
