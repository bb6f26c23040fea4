import type { Socket } from 'node:net'
import { LineSocket, type LineSocketOptions } from '@pyp2p/framing'

/**
 * The application's LineSocket on a relayed connection: its addresses are the carrier's (the relay's
 * until an upgrade completes, then the new connection's). Its `socket` stays the circuit's.
 */
export class CarrierLineSocket extends LineSocket {
  readonly #carrier: () => LineSocket

  constructor(socket: Socket, options: LineSocketOptions, carrier: () => LineSocket) {
    super(socket, options)
    this.#carrier = carrier
  }

  override get remoteAddress(): string | undefined {
    return this.#carrier().remoteAddress
  }
  override get remotePort(): number | undefined {
    return this.#carrier().remotePort
  }
  override get localAddress(): string | undefined {
    return this.#carrier().localAddress
  }
  override get localPort(): number | undefined {
    return this.#carrier().localPort
  }
}
