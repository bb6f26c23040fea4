// The cipher the two prologue lines agree on (prologue.ts), over real loopback sockets: the listener's
// preference among what the dialler offered, version 1 for a ChaChaPoly-only dialler, a typed error
// when nothing is common, and an offer rewritten on the way (a downgrade) failing the handshake.
import { once } from 'node:events'
import { connect, type Server, type Socket } from 'node:net'
import { NodeIdentity } from '@pyp2p/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type NoiseCipher, type SecureSession, secureInbound, secureOutbound } from '../src/index.js'
import { codeOf, dial, listen } from './helpers.js'

const alice = NodeIdentity.generate()
const bob = NodeIdentity.generate()
let server: Server
let port: number
let next: () => Promise<Socket>
beforeAll(async () => {
  ;({ server, port, next } = await listen())
})
afterAll(() => {
  server.close()
})

/** One handshake with the given cipher lists; both sessions, and the first bytes the dialler sent. */
async function handshake(
  dialler?: readonly NoiseCipher[],
  listener?: readonly NoiseCipher[],
): Promise<{ outbound: SecureSession; inbound: SecureSession; firstLine: string }> {
  const client = await dial(port)
  const socket = await next()
  const sent: Buffer[] = []
  socket.on('data', (c: Buffer) => sent.push(c))
  const [outbound, inbound] = await Promise.all([
    secureOutbound(client, { identity: alice, ...(dialler ? { ciphers: dialler } : {}) }),
    secureInbound(socket, { identity: bob, ...(listener ? { ciphers: listener } : {}) }),
  ])
  outbound.stream.write('ping\n')
  const [echo] = (await once(inbound.stream, 'data')) as [Buffer]
  expect(echo.toString()).toBe('ping\n')
  outbound.stream.destroy()
  inbound.stream.destroy()
  return { outbound, inbound, firstLine: Buffer.concat(sent).toString('latin1').split('\r\n')[0] as string }
}

describe('cipher negotiation', () => {
  it('agrees on AESGCM by default, offering both', async () => {
    const { outbound, inbound, firstLine } = await handshake()
    expect(firstLine).toBe('PYP2P-SECURE/2 AESGCM ChaChaPoly')
    expect([outbound.cipher, inbound.cipher]).toEqual(['AESGCM', 'AESGCM'])
  })

  it("takes the listener's first choice among the dialler's offer", async () => {
    const a = await handshake(['ChaChaPoly', 'AESGCM'])
    expect([a.outbound.cipher, a.inbound.cipher]).toEqual(['AESGCM', 'AESGCM'])
    const b = await handshake(undefined, ['ChaChaPoly', 'AESGCM'])
    expect([b.outbound.cipher, b.inbound.cipher]).toEqual(['ChaChaPoly', 'ChaChaPoly'])
    const c = await handshake(['AESGCM'], ['ChaChaPoly', 'AESGCM'])
    expect([c.outbound.cipher, c.inbound.cipher]).toEqual(['AESGCM', 'AESGCM'])
  })

  it('speaks version 1 (ChaChaPoly, as earlier builds) when the dialler accepts ChaChaPoly only', async () => {
    const { outbound, inbound, firstLine } = await handshake(['ChaChaPoly'])
    expect(firstLine).toBe('PYP2P-SECURE/1')
    expect([outbound.cipher, inbound.cipher]).toEqual(['ChaChaPoly', 'ChaChaPoly'])
  })

  it('fails both ends with ERR_NO_COMMON_CIPHER when nothing offered is accepted', async () => {
    const client = await dial(port)
    const socket = await next()
    const [dialled, listened] = await Promise.all([
      codeOf(secureOutbound(client, { identity: alice, ciphers: ['AESGCM'] })),
      codeOf(secureInbound(socket, { identity: bob, ciphers: ['ChaChaPoly'] })),
    ])
    expect([dialled, listened]).toEqual(['ERR_NO_COMMON_CIPHER', 'ERR_NO_COMMON_CIPHER'])
    // Version 1 to a listener that takes AESGCM only.
    const client2 = await dial(port)
    const socket2 = await next()
    const codes = await Promise.all([
      codeOf(secureOutbound(client2, { identity: alice, ciphers: ['ChaChaPoly'] })),
      codeOf(secureInbound(socket2, { identity: bob, ciphers: ['AESGCM'] })),
    ])
    expect(codes).toEqual(['ERR_UNSUPPORTED_VERSION', 'ERR_NO_COMMON_CIPHER'])
  })

  it('refuses a bad ciphers option with ERR_INVALID_OPTION', async () => {
    const client = await dial(port)
    const socket = await next()
    for (const ciphers of [[], ['AESGCM', 'AESGCM'], ['DES']] as unknown as NoiseCipher[][]) {
      expect(() => secureOutbound(client, { identity: alice, ciphers })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    }
    client.destroy()
    socket.destroy()
  })

  it('fails the handshake when a man in the middle strips AESGCM from the offer (no downgrade)', async () => {
    // A proxy between dialler and listener that rewrites the dialler's first line, so the listener
    // sees an offer of ChaChaPoly only and picks it. The listener's answer is one the dialler accepts
    // (it offered ChaChaPoly too): only the offer bound into the Noise prologue can catch the change.
    const proxied = await listen()
    const first = 'PYP2P-SECURE/2 AESGCM ChaChaPoly\r\n'
    const forged = 'PYP2P-SECURE/2 ChaChaPoly\r\n'
    proxied.server.once('connection', (from) => {
      const to = connect(port, '127.0.0.1')
      let head = Buffer.alloc(0)
      let rewritten = false
      from.on('data', (chunk: Buffer) => {
        if (rewritten) return void to.write(chunk)
        head = Buffer.concat([head, chunk])
        if (head.length < first.length) return
        expect(head.toString('latin1', 0, first.length)).toBe(first)
        rewritten = true
        to.write(Buffer.concat([Buffer.from(forged), head.subarray(first.length)]))
      })
      to.on('data', (chunk: Buffer) => from.write(chunk))
      for (const s of [from, to]) {
        s.on('error', () => {})
        s.on('close', () => {
          from.destroy()
          to.destroy()
        })
      }
    })
    const client = await dial(proxied.port)
    const socket = await next()
    const [dialled, listened] = await Promise.all([
      codeOf(secureOutbound(client, { identity: alice, expectedNodeId: bob.nodeId })),
      codeOf(secureInbound(socket, { identity: bob })),
    ])
    proxied.server.close()
    expect(dialled).toBe('ERR_HANDSHAKE_FAILED')
    expect(listened).not.toBe('resolved')
  })
})
