/**
 * The listening side of a punch for a node with no NAT in front of it (the server saw its connection
 * come from the address and port it used). Such a node cannot be "punched" and needs no mapping: it
 * listens (as pyp2p's punch also did) and the peer's SYN, which opens the peer's own NAT mapping on the
 * way out, is simply accepted. Node cannot connect from a port a server listens on (`docs/lab.md`),
 * so the listener has a port of its own.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { plainAddress } from '@pyp2p/framing'
import createDebug from 'debug'
import { PunchError } from './errors.js'

const log = createDebug('pyp2p:punch')

const normalize = (ip: string | undefined): string => plainAddress(ip ?? '')

/** True when the server saw this connection with the socket's own local address and port: no NAT. */
export function isUnNatted(
  observed: { ip: string; port: number },
  local: { address?: string | undefined; port?: number | undefined },
): boolean {
  return normalize(observed.ip) === normalize(local.address) && observed.port === local.port
}

export class DirectListener {
  readonly server: Server
  readonly port: number
  readonly #pending: Socket[] = []

  private constructor(server: Server, port: number) {
    this.server = server
    this.port = port
    server.on('connection', (s) => {
      s.on('error', () => {})
      this.#pending.push(s)
    })
  }

  /** Listens on a fresh port (all interfaces of `localAddress`'s family). */
  static async open(localAddress = '0.0.0.0'): Promise<DirectListener> {
    const server = createServer()
    server.listen(0, localAddress)
    await once(server, 'listening')
    return new DirectListener(server, (server.address() as { port: number }).port)
  }

  /**
   * The first connection from `peerIp` (others are refused by closing them), within `timeout` ms.
   * Rejects with `ERR_PUNCH_FAILED`/`ERR_ABORTED` (stage `punch`).
   */
  accept(peerIp: string, timeout: number, signal?: AbortSignal): Promise<Socket> {
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const take = (s: Socket): boolean => {
        if (normalize(s.remoteAddress) !== normalize(peerIp)) {
          log('listener: dropping connection from %s (waiting for %s)', s.remoteAddress, peerIp)
          s.destroy()
          return false
        }
        cleanup()
        s.removeAllListeners('error')
        resolve(s)
        return true
      }
      const onConnection = (s: Socket): void => {
        const i = this.#pending.indexOf(s)
        if (i !== -1) this.#pending.splice(i, 1)
        take(s)
      }
      const onAbort = (): void => {
        cleanup()
        reject(PunchError.ABORTED('punch', signal?.reason))
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(
          PunchError.PUNCH_FAILED(
            `no connection from ${peerIp} reached the listener`,
            0,
            performance.now() - started,
          ),
        )
      }, timeout)
      const cleanup = (): void => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.server.off('connection', onConnection)
      }
      if (signal?.aborted) return onAbort()
      for (const s of this.#pending.splice(0)) if (take(s)) return
      signal?.addEventListener('abort', onAbort, { once: true })
      this.server.on('connection', onConnection)
    })
  }

  /** Stops listening and destroys connections nobody took. Idempotent. */
  close(): void {
    for (const s of this.#pending.splice(0)) s.destroy()
    if (this.server.listening) this.server.close()
  }
}
