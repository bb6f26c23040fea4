// A NAT-PMP gateway (RFC 6886) on a random loopback address, port 5351, for tests, which also
// answers PCP (RFC 6887) when `pcp` is set, as miniupnpd does (else it answers PCP requests with
// NAT-PMP's "unsupported version", as a NAT-PMP-only gateway must). It can answer with result codes,
// stay silent, send garbage, "restart" (epoch back to 0) and drop its mappings without a word.
import { randomInt } from 'node:crypto'
import { createSocket, type RemoteInfo } from 'node:dgram'
import { encodePcpResponse, parsePcpRequest } from './pcp-wire.js'

export interface FakeNatPmpOptions {
  externalIp?: readonly [number, number, number, number]
  /** answer every request with this result code */
  resultCode?: number
  /** never answer */
  silent?: boolean
  /** answer PCP (version 2) too; default false (NAT-PMP only) */
  pcp?: boolean
  /** PCP: answer every request with this result code */
  pcpResultCode?: number
  /** PCP: grant at most this lifetime, seconds */
  pcpMaxLifetime?: number
  /** PCP: move every epoch by this many seconds (negative: backwards) */
  pcpEpochShift?: number
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

  const pcpMappings = new Map<string, { nonce: Buffer; external: number; lifetime: number }>()
  let nextPort = 40_000
  const answerPcp = (msg: Buffer, rinfo: RemoteInfo) => {
    const send = (b: Buffer) => socket.send(b, rinfo.port, rinfo.address)
    const req = parsePcpRequest(msg)
    if (req === undefined) return
    const pcpEpoch = epoch() + (state.pcpEpochShift ?? 0)
    const ip = (state.externalIp ?? [11, 0, 0, 100]).join('.')
    let code = state.pcpResultCode ?? 0
    if (code === 0 && req.clientAddress !== rinfo.address) code = 12 // ADDRESS_MISMATCH
    if (req.opcode === 0)
      return send(encodePcpResponse({ opcode: 0, resultCode: code, lifetime: 0, epoch: pcpEpoch }))
    const m = req.map
    if (req.opcode !== 1 || m === undefined)
      return send(encodePcpResponse({ opcode: req.opcode, resultCode: 4, lifetime: 0, epoch: pcpEpoch }))
    const key = `${m.protocol}:${m.internalPort}`
    const held = pcpMappings.get(key)
    if (code === 0 && held !== undefined && !held.nonce.equals(m.nonce)) code = 2 // NOT_AUTHORIZED
    let external = 0
    let lifetime = 0
    if (code === 0 && req.lifetime === 0) pcpMappings.delete(key)
    else if (code === 0) {
      lifetime = Math.min(req.lifetime, state.pcpMaxLifetime ?? 0xffffffff)
      const taken = new Set([...pcpMappings.values()].map((x) => x.external))
      external =
        held?.external ??
        (m.suggestedExternalPort && !taken.has(m.suggestedExternalPort)
          ? m.suggestedExternalPort
          : nextPort++)
      pcpMappings.set(key, { nonce: m.nonce, external, lifetime })
    }
    send(
      encodePcpResponse({
        opcode: 1,
        resultCode: code,
        lifetime,
        epoch: pcpEpoch,
        map: { ...m, externalPort: external, externalAddress: code === 0 ? ip : '::' },
      }),
    )
  }

  socket.on('message', (msg, rinfo) => {
    requests.push(msg)
    const custom = intercept?.(msg, rinfo)
    if (custom !== undefined) {
      for (const b of custom) socket.send(b, rinfo.port, rinfo.address)
      return
    }
    if (state.silent || msg.length < 2) return
    if (msg[0] !== 0) {
      if (state.pcp) return answerPcp(msg, rinfo)
      // RFC 6886 section 3.5: any other version gets "unsupported version" (result 1).
      const out = Buffer.alloc(8)
      out.writeUInt8(0, 0)
      out.writeUInt8(128 + ((msg[1] ?? 0) & 0x7f), 1)
      out.writeUInt16BE(1, 2)
      out.writeUInt32BE(epoch(), 4)
      socket.send(out, rinfo.port, rinfo.address)
      return
    }
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
    pcpMappings,
    /** forget every mapping without restarting (epoch goes on): a router that dropped them silently */
    dropMappings() {
      mappings.clear()
      pcpMappings.clear()
    },
    /** pretend the gateway restarted: epoch starts again from 0 and the table is empty */
    restart() {
      started = Date.now()
      state.epochOffset = 0
      mappings.clear()
      pcpMappings.clear()
    },
    /** sends an unsolicited PCP ANNOUNCE (RFC 6887 section 14.1.3) with the current epoch, from port
     * 5351, to `port` on `to` (a restarted server multicasts it to 224.0.0.1:5350) */
    announce(port: number, to = '127.0.0.1', datagram?: Buffer) {
      const msg =
        datagram ??
        encodePcpResponse({
          opcode: 0,
          resultCode: 0,
          lifetime: 0,
          epoch: epoch() + (state.pcpEpochShift ?? 0),
        })
      return new Promise<void>((resolve, reject) =>
        socket.send(msg, port, to, (err) => (err ? reject(err) : resolve())),
      )
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
