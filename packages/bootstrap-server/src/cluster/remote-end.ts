/**
 * The candidate side of a punch whose candidate is connected to another instance, as the punch table
 * and the punch commands see it: its first line is the reply to the forwarded `CANDIDATE`, every later
 * line (FIGHT, or the error that ends the punch) is published to the candidate's instance.
 */
import { formatError } from '@pyp2p/rendezvous-protocol'
import type { PunchEnd } from '../punch-table.js'
import type { PeerMessage } from '../store/cluster-store.js'

export class RemoteEnd implements PunchEnd {
  readonly remote = true as const
  readonly ip: string
  readonly nodes: string[] | undefined = undefined
  rtt: number
  pingToken: string | undefined
  punchCount = 0
  started = 0
  open = true
  readonly #req: number
  readonly #publish: (msg: PeerMessage) => void
  #replied = false
  #punchId: string | undefined

  constructor(ip: string, rtt: number, measuring: boolean, req: number, publish: (msg: PeerMessage) => void) {
    this.ip = ip
    this.rtt = rtt
    // A PING is out at the candidate's instance: FIGHT may wait for its measurement (fight-delay.ts).
    this.pingToken = measuring ? 'remote' : undefined
    this.#req = req
    this.#publish = publish
  }

  get isOpen(): boolean {
    return this.open
  }

  send(line: string): boolean {
    if (!this.open) return false
    if (!this.#replied) {
      this.#replied = true
      const m = /^PREDICTION SET ([0-9a-f]+)$/.exec(line)
      this.#punchId = m?.[1]
      if (this.#punchId === undefined) this.open = false
      this.#publish({ op: 'reply', req: this.#req, line })
      return true
    }
    if (this.#punchId === undefined) return false
    this.#publish({ op: 'line', punch: this.#punchId, line })
    this.open = false
    return true
  }

  sendError(code: string, text: string, punchId?: string): void {
    this.send(formatError(code, text, punchId))
  }
}
