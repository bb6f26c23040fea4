// A NAT-PMP gateway (RFC 6886) on a random loopback address, port 5351, for tests. It can answer
// with result codes, stay silent, send garbage, and "restart" (epoch back to 0).
import { randomInt } from 'node:crypto'
import { createSocket, type RemoteInfo } from 'node:dgram'

export interface FakeNatPmpOptions {
  externalIp?: readonly [number, number, number, number]
  /** answer every request with this result code */
  resultCode?: number
  /** never answer */
  silent?: boolean
}

export async function startFakeNatPmp(opts: FakeNatPmpOptions = {}) {
  const socket = createSocket('udp4')
  // 127.0.0.0/8 is all loopback on Linux; a random address keeps parallel test files apart.
  let address = ''
  for (let i = 0; ; i++) {
    address = `127.${randomInt(1, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false))
      socket.bind(5351, address, () => resolve(true))
    })
    if (ok) break
    if (i > 20) throw new Error('no free loopback address for the fake NAT-PMP gateway')
  }
  let started = Date.now()
  const requests: Buffer[] = []
  const mappings = new Map<string, { internal: number; external: number; ttl: number }>()
  let intercept: ((msg: Buffer, rinfo: RemoteInfo) => Buffer[] | undefined) | undefined

  const epoch = () => Math.floor((Date.now() - started) / 1000) + (state.epochOffset ?? 0)
  const state = { ...opts, epochOffset: 1000 as number | undefined }

  socket.on('message', (msg, rinfo) => {
    requests.push(msg)
    const custom = intercept?.(msg, rinfo)
    if (custom !== undefined) {
      for (const b of custom) socket.send(b, rinfo.port, rinfo.address)
      return
    }
    if (state.silent || msg.length < 2) return
    const op = msg[1] ?? 0
    const code = state.resultCode ?? 0
    if (op === 0) {
      const out = Buffer.alloc(12)
      out.writeUInt8(0, 0)
      out.writeUInt8(128, 1)
      out.writeUInt16BE(code, 2)
      out.writeUInt32BE(epoch(), 4)
      const ip = state.externalIp ?? [11, 0, 0, 100]
      for (let i = 0; i < 4; i++) out.writeUInt8(ip[i] ?? 0, 8 + i)
      socket.send(out, rinfo.port, rinfo.address)
      return
    }
    if ((op === 1 || op === 2) && msg.length === 12) {
      const internal = msg.readUInt16BE(4)
      let external = msg.readUInt16BE(6)
      const ttl = msg.readUInt32BE(8)
      const key = `${op}:${internal}`
      if (ttl === 0) {
        mappings.delete(key)
        external = 0
      } else mappings.set(key, { internal, external: external || internal, ttl })
      const out = Buffer.alloc(16)
      out.writeUInt8(0, 0)
      out.writeUInt8(128 + op, 1)
      out.writeUInt16BE(code, 2)
      out.writeUInt32BE(epoch(), 4)
      out.writeUInt16BE(internal, 8)
      out.writeUInt16BE(ttl === 0 ? 0 : external || internal, 10)
      out.writeUInt32BE(ttl, 12)
      socket.send(out, rinfo.port, rinfo.address)
    }
  })

  return {
    address,
    requests,
    mappings,
    /** pretend the gateway restarted: epoch starts again from 0 and the table is empty */
    restart() {
      started = Date.now()
      state.epochOffset = 0
      mappings.clear()
    },
    set(next: FakeNatPmpOptions) {
      Object.assign(state, next)
    },
    /** answer with these datagrams instead (undefined: normal behaviour) */
    intercept(fn: typeof intercept) {
      intercept = fn
    },
    close() {
      socket.close()
    },
  }
}
