/**
 * Many clients from one network prefix (the "/24 attacker" of issue 21), for tests and benches of
 * limits per prefix. `addLocalPrefixes` makes whole prefixes local inside a lab namespace (`ip route
 * add local <prefix> dev lo`, and `net.ipv6.ip_nonlocal_bind=1` for IPv6), so one process there can
 * bind a client socket to any of their addresses. `PrefixClients`, run in that namespace, holds
 * connections to a bootstrap server from those addresses, each registering a random simultaneous node,
 * and re-opens every one it loses or is refused. It speaks the server's text lines itself (HELLO,
 * SIMULTANEOUS READY, PING/PONG, OK, ERROR): the lab imports no workspace package, so a caller that
 * must sign its registrations (a server without `allowUnsigned` answers an unsigned READY with
 * `ERR_SIGNATURE_REQUIRED`) passes `ready`, which makes the line from the server's HELLO.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { NetlabError } from './errors.js'
import type { Lab } from './types.js'

/**
 * Makes every prefix local in `host`'s namespace (IPv4 and IPv6 alike); with an IPv6 prefix also
 * allows binding to addresses not on an interface. Rejects with ERR_COMMAND_FAILED.
 */
export async function addLocalPrefixes(lab: Lab, host: string, prefixes: readonly string[]): Promise<void> {
  const run = async (argv: string[]): Promise<void> => {
    const r = await lab.exec(host, argv)
    if (r.code !== 0) throw NetlabError.COMMAND_FAILED(argv, r.code, r.stderr)
  }
  for (const p of prefixes) {
    await run(['ip', ...(p.includes(':') ? ['-6'] : []), 'route', 'add', 'local', p, 'dev', 'lo'])
  }
  if (prefixes.some((p) => p.includes(':'))) await run(['sysctl', '-qw', 'net.ipv6.ip_nonlocal_bind=1'])
}

/** A random address of a /64, given as its first half with the trailing `::` (`fd00:9::`). */
export function randomAddressIn64(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex').match(/.{4}/g)?.join(':')}`
}

export interface PrefixClientsOptions {
  /** the bootstrap server */
  host: string
  port: number
  /** the local address of connection number `i` */
  from: (i: number) => string
  /** ms between losing a connection and opening its replacement; default 0 (at once, full rate) */
  reopenDelayMs?: number
  /**
   * The registration line connection `i` sends after the server's `HELLO` line (given whole, with its
   * nonce and server id). Default an unsigned `SIMULTANEOUS READY 1 10 <random node id>`.
   */
  ready?: (hello: string, i: number) => string
  /**
   * ms after which `open()` resolves although the server has not answered (the connection stays open
   * and keeps counting); default 10,000, so `fill()` ends even against a server that stays silent.
   */
  answerTimeoutMs?: number
}

/** What a connection registers when the caller does not say: an unsigned random simultaneous node. */
function unsignedReady(): string {
  return `SIMULTANEOUS READY 1 10 ${randomBytes(20).toString('hex')}`
}

/** Connections that hold a slot each in a bootstrap server's table, re-opened as they are lost. */
export class PrefixClients {
  /** connections registered now */
  held = 0
  /** connections the server greeted (`HELLO`) and has not closed: the slots of its table they hold */
  admitted = 0
  /** connections opened so far, re-opened ones included */
  opened = 0
  /** refusals seen, by the server's error code */
  readonly codes: Record<string, number> = {}
  readonly #o: Required<PrefixClientsOptions>
  readonly #sockets = new Set<Socket>()
  #stopped = false

  constructor(options: PrefixClientsOptions) {
    this.#o = { reopenDelayMs: 0, ready: unsignedReady, answerTimeoutMs: 10_000, ...options }
  }

  /**
   * Opens connection number `i`; resolves once it is registered, refused (it may stay open and still
   * hold a slot), closed, or unanswered for `answerTimeoutMs`. When it closes, opens another (until
   * `stop()`).
   */
  open(i: number): Promise<void> {
    return new Promise((res) => {
      if (this.#stopped) return res()
      this.opened++
      const { host, port, from, reopenDelayMs, ready, answerTimeoutMs } = this.#o
      const s = connect({ host, port, localAddress: from(i) })
      this.#sockets.add(s)
      let buf = ''
      let registered = false
      let greeted = false
      const timer = setTimeout(() => res(), answerTimeoutMs).unref()
      const resolve = (): void => {
        clearTimeout(timer)
        res()
      }
      s.setEncoding('latin1')
      s.on('error', () => {})
      s.on('data', (d: string) => {
        buf += d
        for (let n = buf.indexOf('\r\n'); n !== -1; n = buf.indexOf('\r\n')) {
          const line = buf.slice(0, n)
          buf = buf.slice(n + 2)
          if (line.startsWith('HELLO ') && !greeted) {
            greeted = true
            this.admitted++
            let reply: string
            try {
              reply = ready(line, i)
            } catch {
              this.codes.READY_FAILED = (this.codes.READY_FAILED ?? 0) + 1 // the caller's `ready` threw
              s.destroy()
              return
            }
            s.write(`${reply}\r\n`)
          } else if (line.startsWith('PING ')) s.write(`PONG ${line.slice(5)}\r\n`)
          else if (line === 'OK SIMULTANEOUS') {
            registered = true
            this.held++
            resolve()
          } else if (line.startsWith('ERROR ')) {
            const code = line.split(' ')[1] as string
            this.codes[code] = (this.codes[code] ?? 0) + 1
            resolve()
          }
        }
      })
      s.on('close', () => {
        this.#sockets.delete(s)
        if (registered) this.held--
        if (greeted) this.admitted--
        resolve()
        if (this.#stopped) return
        if (reopenDelayMs === 0) setImmediate(() => void this.open(i))
        else setTimeout(() => void this.open(i), reopenDelayMs).unref()
      })
    })
  }

  /** Opens connections 0 .. n-1, `batch` at a time, each batch once all of it was answered. */
  async fill(n: number, batch = 200): Promise<void> {
    for (let i = 0; i < n; i += batch) {
      const opening: Promise<void>[] = []
      for (let j = i; j < Math.min(n, i + batch); j++) opening.push(this.open(j))
      await Promise.all(opening)
    }
  }

  /** Closes every connection and opens no more. */
  stop(): void {
    this.#stopped = true
    for (const s of this.#sockets) s.destroy()
  }
}
