/**
 * The candidate's side of punches coordinated by another instance (the target's): the forwarded
 * `CANDIDATE` requests waiting for their reply, and the punches they started, by id and by connection,
 * so the line that ends each punch reaches its candidate, a closed candidate is reported, and a punch
 * whose instance went silent still ends (with `ERR_PUNCH_TIMEOUT`) on this side.
 */
import type { Connection } from '../connection.js'

export interface RemotePunch {
  readonly id: string
  readonly conn: Connection
  /** The instance coordinating it (the target's). */
  readonly instance: string
  readonly createdAt: number
}

export class RemotePunches {
  readonly #byId = new Map<string, RemotePunch>()
  readonly #byConn = new Map<Connection, Set<RemotePunch>>()
  readonly #requests = new Map<number, (line: string | undefined) => void>()
  #nextReq = 0

  get size(): number {
    return this.#byId.size
  }

  /** A request id and the promise of its reply line (`undefined` after `timeoutMs`). */
  request(timeoutMs: number): { req: number; reply: Promise<string | undefined> } {
    const req = ++this.#nextReq
    const reply = new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.#requests.delete(req)
        resolve(undefined)
      }, timeoutMs)
      timer.unref()
      this.#requests.set(req, (line) => {
        clearTimeout(timer)
        this.#requests.delete(req)
        resolve(line)
      })
    })
    return { req, reply }
  }

  /** The reply to request `req` arrived (ignored when it timed out already). */
  replied(req: number, line: string): void {
    this.#requests.get(req)?.(line)
  }

  add(p: RemotePunch): void {
    this.#byId.set(p.id, p)
    let set = this.#byConn.get(p.conn)
    if (set === undefined) {
      set = new Set()
      this.#byConn.set(p.conn, set)
    }
    set.add(p)
    p.conn.started++
  }

  /** Ends punch `id` on this side; returns it if it was pending. */
  take(id: string): RemotePunch | undefined {
    const p = this.#byId.get(id)
    if (p === undefined) return undefined
    this.#byId.delete(id)
    const set = this.#byConn.get(p.conn)
    set?.delete(p)
    if (set?.size === 0) this.#byConn.delete(p.conn)
    p.conn.started--
    return p
  }

  of(conn: Connection): RemotePunch[] {
    return [...(this.#byConn.get(conn) ?? [])]
  }

  /** Ends every punch created at or before `cutoff`, calling `onExpired` for each (insertion order = age). */
  expire(cutoff: number, onExpired: (p: RemotePunch) => void): void {
    for (const p of this.#byId.values()) {
      if (p.createdAt > cutoff) break
      this.take(p.id)
      onExpired(p)
    }
  }

  clear(): void {
    for (const resolve of [...this.#requests.values()]) resolve(undefined)
    for (const id of [...this.#byId.keys()]) this.take(id)
  }
}
