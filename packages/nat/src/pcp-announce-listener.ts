// Hears a PCP server's unsolicited ANNOUNCE (RFC 6887 section 14.1.3): after a restart the server
// multicasts an ANNOUNCE with its new epoch to 224.0.0.1:5350 and [ff02::1]:5350 (miniupnpd 2.3.1 does
// so on its LAN at start), so a client can put its mappings back at once instead of at its next
// renewal. Only replies from port 5351 of a gateway we hold PCP mappings with are acted on.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import createDebug from 'debug'
import { PCP_CLIENT_PORT, PCP_OPCODE, PCP_PORT, PCP_RESULT } from './constants.js'
import { parsePcpResponse } from './pcp-codec.js'

const debug = createDebug('pyp2p:nat:pcp')

export interface AnnounceListenerOptions {
  /** port to listen on; default 5350 (tests use one from the OS) */
  port?: number
  /** the server's port the ANNOUNCE must come from; default 5351 */
  serverPort?: number
  /** is `address` (zone dropped; `zone` the interface of an IPv6 link-local one) a gateway we care
   * about, one holding our PCP mappings? */
  accepts(address: string, zone?: string): boolean
  /** a valid ANNOUNCE (result 0) from an accepted gateway, with its epoch */
  onAnnounce(gateway: string, epoch: number, zone?: string): void
}

/** Drops an IPv6 zone ('fe80::1%eth0' -> 'fe80::1') and the IPv4-mapped prefix. */
const plain = (address: string) => address.replace(/%.*$/, '').replace(/^::ffff:(?=\d+\.)/, '')

/** One UDP socket per family on port 5350, shared with other PCP clients on the host (SO_REUSEADDR). */
export class PcpAnnounceListener {
  readonly #opts: AnnounceListenerOptions
  readonly #sockets: Socket[] = []
  #starting: Promise<void> | undefined
  #closed = false

  constructor(opts: AnnounceListenerOptions) {
    this.#opts = opts
  }

  /** The ports listened on (one per family that could bind); empty before start() resolved. */
  get ports(): number[] {
    return this.#sockets.map((s) => s.address().port)
  }

  /** Binds the sockets once; a family that cannot bind (no IPv6, port taken) is skipped and logged. */
  start(): Promise<void> {
    this.#starting ??= Promise.all([this.#bind('udp4'), this.#bind('udp6')]).then(() => {})
    return this.#starting
  }

  async #bind(type: 'udp4' | 'udp6'): Promise<void> {
    const socket = createSocket({ type, reuseAddr: true, ...(type === 'udp6' ? { ipv6Only: true } : {}) })
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind({ port: this.#opts.port ?? PCP_CLIENT_PORT, exclusive: false }, () => {
          socket.off('error', reject)
          resolve()
        })
      })
    } catch (err) {
      debug('not listening for PCP ANNOUNCE over %s: %s', type, (err as Error).message)
      socket.close()
      return
    }
    if (this.#closed) return void socket.close()
    socket.on('error', (err) => debug('ANNOUNCE socket (%s): %s', type, err.message))
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo))
    socket.unref()
    this.#sockets.push(socket)
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const from = plain(rinfo.address)
    const zone = /%(.+)$/.exec(rinfo.address)?.[1]
    if (rinfo.port !== (this.#opts.serverPort ?? PCP_PORT) || !this.#opts.accepts(from, zone)) {
      debug('ignoring a datagram on the ANNOUNCE port from %s:%d', rinfo.address, rinfo.port)
      return
    }
    try {
      const r = parsePcpResponse(msg)
      if (r.opcode !== PCP_OPCODE.ANNOUNCE || r.resultCode !== PCP_RESULT.SUCCESS) {
        debug('ignoring PCP opcode %d result %d from %s', r.opcode, r.resultCode, from)
        return
      }
      debug('unsolicited ANNOUNCE from %s, epoch %d', from, r.epoch)
      this.#opts.onAnnounce(from, r.epoch, zone)
    } catch (err) {
      debug('bad datagram on the ANNOUNCE port from %s: %s', from, (err as Error).message)
    }
  }

  /** Closes the sockets; idempotent. */
  close(): void {
    this.#closed = true
    for (const s of this.#sockets.splice(0)) s.close()
  }
}
