import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { CircuitRelay, type CircuitRelayOptions, CircuitReservation, RelayListener } from '../src/index.js'

export interface Harness {
  relay: CircuitRelay
  listener: RelayListener
  port: number
  close(): Promise<void>
}

/** A relay on loopback (sweeps only when the test calls `sweep()`). */
export async function startRelay(options: CircuitRelayOptions = {}, at = 0): Promise<Harness> {
  const relay = new CircuitRelay({ sweepInterval: 0, ...options })
  const listener = new RelayListener(relay)
  const { port } = await listener.listen({ host: '127.0.0.1', port: at })
  return {
    relay,
    listener,
    port,
    close: async () => {
      relay.close()
      await listener.close()
    },
  }
}

export async function reserve(port: number, identity = NodeIdentity.generate()): Promise<CircuitReservation> {
  return CircuitReservation.open({ host: '127.0.0.1', port, identity })
}

/** Reads exactly `n` bytes from a socket. */
export function readBytes(socket: Socket, n: number): Promise<Buffer> {
  const parts: Buffer[] = []
  let got = 0
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      parts.push(chunk)
      got += chunk.length
      if (got < n) return
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      const all = Buffer.concat(parts)
      if (all.length > n) socket.unshift(all.subarray(n))
      resolve(all.subarray(0, n))
    }
    const onClose = (): void => reject(new Error(`closed after ${got} of ${n} bytes`))
    socket.on('data', onData)
    socket.on('close', onClose)
    socket.resume()
  })
}

/** A reservation made by hand that never accepts its circuits (for accept-timeout tests). */
export async function rawReservation(port: number): Promise<{ nodeId: string; con: LineSocket }> {
  const me = NodeIdentity.generate()
  const con = new LineSocket(connect({ host: '127.0.0.1', port }))
  await con.readLine()
  con.sendLine(`CIRCUIT RESERVE ${me.nodeId}`)
  const nonce = (await con.readLine()).split(' ')[2]!
  const sig = me.sign('pyp2p-circuit-reserve/1', [nonce, me.nodeId]).toString('base64url')
  con.sendLine(`CIRCUIT PROVE ${me.publicKey} ${sig}`)
  await con.readLine()
  return { nodeId: me.nodeId, con }
}

/** Everything a socket delivers until it closes. */
export async function readAll(socket: Socket): Promise<Buffer> {
  const parts: Buffer[] = []
  socket.on('data', (c: Buffer) => parts.push(c))
  socket.resume()
  if (!socket.destroyed) await once(socket, 'close')
  return Buffer.concat(parts)
}

export const ZERO_ID = '0'.repeat(40)
