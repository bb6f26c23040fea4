import { once } from 'node:events'
import type { Server, Socket } from 'node:net'
import { NodeIdentity } from '@pyp2p/identity'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isSecurePrologue, type SecureError, secureInbound, secureOutbound } from '../src/index.js'
import { codeOf, dial, listen, readAll } from './helpers.js'

const alice = NodeIdentity.generate()
const bob = NodeIdentity.generate()
// What a default dialler sends first (its offer), and a default listener's answer.
const OFFER = Buffer.from('PYP2P-SECURE/2 AESGCM ChaChaPoly\r\n')
const ANSWER = Buffer.from('PYP2P-SECURE/2 AESGCM\r\n')
let server: Server
let port: number
let next: () => Promise<Socket>
beforeAll(async () => {
  ;({ server, port, next } = await listen())
})
afterAll(() => {
  server.close()
})

/** A raw client sends `bytes` (then ends, unless `keepOpen`); the listener's handshake result code. */
async function inboundAfter(
  bytes: Buffer,
  keepOpen = false,
): Promise<{ code: string; reply: Promise<Buffer> }> {
  const raw = await dial(port)
  const reply = readAll(raw)
  const inbound = await next()
  const result = codeOf(secureInbound(inbound, { identity: bob, timeout: 2_000 }))
  if (keepOpen) raw.write(bytes)
  else raw.end(bytes)
  const code = await result
  // The listener closes after a failure, having sent its prologue (with message 2, or alone when it
  // failed before): read to that close (bounded), so the reply holds everything it sent.
  await once(raw, 'close', { signal: AbortSignal.timeout(5_000) }).catch(() => {})
  raw.destroy()
  return { code, reply }
}

/** A raw server answers a secure dialler with `bytes`; the dialler's handshake result code. */
async function outboundAfter(bytes: Buffer): Promise<string> {
  const client = await dial(port)
  const inbound = await next()
  inbound.on('error', () => {})
  const result = codeOf(secureOutbound(client, { identity: alice, timeout: 2_000 }))
  inbound.end(bytes)
  return result
}

/** Bytes a real dialler and listener send in one handshake (and a first application frame each). */
async function recordHandshake(): Promise<{ fromDialler: Buffer; fromListener: Buffer }> {
  const client = await dial(port)
  const inbound = await next()
  const fromDialler: Buffer[] = []
  const fromListener: Buffer[] = []
  inbound.on('data', (c: Buffer) => fromDialler.push(c))
  client.on('data', (c: Buffer) => fromListener.push(c))
  const [a, b] = await Promise.all([
    secureOutbound(client, { identity: alice }),
    secureInbound(inbound, { identity: bob }),
  ])
  a.stream.write('x')
  await once(b.stream, 'data')
  a.stream.destroy()
  return { fromDialler: Buffer.concat(fromDialler), fromListener: Buffer.concat(fromListener) }
}

describe('secure handshake against bad input', () => {
  it('names a plain-line dialler (the old PYP2P-CONNECT hello) ERR_PLAINTEXT_PEER, and it reads our prologue line', async () => {
    const hello = `PYP2P-CONNECT/1 ${'ab'.repeat(32)} ${alice.nodeId}\r\n`
    const { code, reply } = await inboundAfter(Buffer.from(hello), true)
    expect(code).toBe('ERR_PLAINTEXT_PEER')
    const firstLine = (await reply).toString('latin1').split('\r\n')[0] as string
    expect(isSecurePrologue(firstLine)).toBe(true)
  })

  it('names a plain-line listener (a HELLO line first) ERR_PLAINTEXT_PEER', async () => {
    expect(await outboundAfter(Buffer.from('HELLO PYP2P/1 127.0.0.1 5000\r\n'))).toBe('ERR_PLAINTEXT_PEER')
  })

  it('names another version ERR_UNSUPPORTED_VERSION', async () => {
    expect((await inboundAfter(Buffer.from('PYP2P-SECURE/9\r\n'), true)).code).toBe('ERR_UNSUPPORTED_VERSION')
    // A listener of an earlier build answers a version-2 offer with its version-1 line.
    expect(await outboundAfter(Buffer.from('PYP2P-SECURE/1\r\n'))).toBe('ERR_UNSUPPORTED_VERSION')
  })

  it('fails a prologue line that never ends, at its bound (ERR_HANDSHAKE_MALFORMED)', async () => {
    const endless = Buffer.from(`PYP2P-SECURE/2 ${'AESGCM '.repeat(40)}`)
    expect((await inboundAfter(endless, true)).code).toBe('ERR_HANDSHAKE_MALFORMED')
    expect(await outboundAfter(endless)).toBe('ERR_HANDSHAKE_MALFORMED')
  })

  it('fails garbage at the first byte with ERR_HANDSHAKE_MALFORMED', async () => {
    expect((await inboundAfter(Buffer.from([0x16, 0x03, 0x01, 0x00]), true)).code).toBe(
      'ERR_HANDSHAKE_MALFORMED',
    )
  })

  it('fails a truncated handshake with ERR_HANDSHAKE_CLOSED', async () => {
    const half = Buffer.concat([OFFER, Buffer.from([0, 32]), Buffer.alloc(10)])
    expect((await inboundAfter(half)).code).toBe('ERR_HANDSHAKE_CLOSED')
    expect((await inboundAfter(OFFER.subarray(0, 5))).code).toBe('ERR_HANDSHAKE_CLOSED')
  })

  it('fails an oversize handshake frame as soon as its length arrives (ERR_FRAME_TOO_LARGE)', async () => {
    const oversize = Buffer.concat([OFFER, Buffer.from([0xff, 0xff])])
    expect((await inboundAfter(oversize, true)).code).toBe('ERR_FRAME_TOO_LARGE')
    expect(await outboundAfter(Buffer.concat([ANSWER, Buffer.from([0x10, 0x00])]))).toBe(
      'ERR_FRAME_TOO_LARGE',
    )
  })

  it('refuses replayed handshake messages in both directions (ERR_HANDSHAKE_FAILED)', async () => {
    const { fromDialler, fromListener } = await recordHandshake()
    // The dialler's prologue, message 1 and message 3 replayed to a fresh listener: its new ephemeral
    // key makes message 3 undecryptable.
    expect((await inboundAfter(fromDialler, true)).code).toBe('ERR_HANDSHAKE_FAILED')
    // The listener's message 2 replayed to a fresh dialler: bound to the old dialler's ephemeral key.
    expect(await outboundAfter(fromListener)).toBe('ERR_HANDSHAKE_FAILED')
  })

  it('ends any byte string fed to either side in a typed error or a session, never a crash (fast-check)', async () => {
    // Every prologue line either side may read: offers, answers, version 1, no common cipher, unknown.
    const PROLOGUES = [
      OFFER,
      ANSWER,
      Buffer.from('PYP2P-SECURE/1\r\n'),
      Buffer.from('PYP2P-SECURE/2 ChaChaPoly\r\n'),
      Buffer.from('PYP2P-SECURE/2\r\n'),
      Buffer.from('PYP2P-SECURE/2 NoSuchCipher\r\n'),
    ]
    const arbitraryInput = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(fc.constantFrom(...PROLOGUES), fc.uint8Array({ maxLength: 300 }))
        .map(([p, b]) => Buffer.concat([p, b])),
      fc
        .tuple(
          fc.constantFrom(...PROLOGUES),
          fc.constantFrom(32, 208, 160, 0, 1, 65535),
          fc.uint8Array({ maxLength: 260 }),
        )
        .map(([p, n, b]) => Buffer.concat([p, Buffer.from([n >> 8, n & 0xff]), b])),
    )
    await fc.assert(
      fc.asyncProperty(arbitraryInput, fc.boolean(), async (bytes, toListener) => {
        const code = toListener
          ? (await inboundAfter(Buffer.from(bytes))).code
          : await outboundAfter(Buffer.from(bytes))
        expect(code).toMatch(/^ERR_/)
      }),
      { numRuns: 150 },
    )
  })
})

describe('secure stream against bad input', () => {
  async function sessionWithRawDialler() {
    const client = await dial(port)
    const inbound = await next()
    const [a, b] = await Promise.all([
      secureOutbound(client, { identity: alice }),
      secureInbound(inbound, { identity: bob }),
    ])
    const failed = new Promise<SecureError>((resolve) =>
      b.stream.once('error', (err) => resolve(err as SecureError)),
    )
    return { a, b, client, failed }
  }

  it('fails an altered frame with ERR_DECRYPT_FAILED', async () => {
    const { client, failed } = await sessionWithRawDialler()
    client.write(Buffer.concat([Buffer.from([0, 20]), Buffer.alloc(20, 1)]))
    expect((await failed).code).toBe('ERR_DECRYPT_FAILED')
  })

  it('fails a replayed frame with ERR_DECRYPT_FAILED (the nonce moved on)', async () => {
    const { a, b, client, failed } = await sessionWithRawDialler()
    const sent: Buffer[] = []
    const write = client.write.bind(client)
    client.write = ((chunk: Buffer, ...rest: never[]) => {
      sent.push(Buffer.from(chunk))
      return write(chunk, ...rest)
    }) as typeof client.write
    a.stream.write('once')
    await once(b.stream, 'data')
    // Everything the dialler wrote since the session began: the one frame (however many writes).
    write(Buffer.concat(sent))
    expect((await failed).code).toBe('ERR_DECRYPT_FAILED')
  })

  it('fails a frame shorter than its tag, and a close mid-frame (ERR_TRUNCATED_FRAME)', async () => {
    const first = await sessionWithRawDialler()
    first.client.write(Buffer.from([0, 3, 1, 2, 3]))
    expect((await first.failed).code).toBe('ERR_DECRYPT_FAILED')
    const second = await sessionWithRawDialler()
    second.client.end(Buffer.from([0, 100, 1, 2, 3]))
    expect((await second.failed).code).toBe('ERR_TRUNCATED_FRAME')
  })
})
