// Our Noise XX (packages/secure/src/noise) against an independent, maintained implementation of the
// same protocol, Noise_XX_25519_ChaChaPoly_SHA256: js-libp2p's @chainsafe/libp2p-noise (a dev
// dependency; its handshake state is not in its export map, so it is loaded by file). Both directions:
// each side reads what the other wrote, both reach the same handshake hash, learn each other's static
// key, and decrypt each other's transport messages.
import { once } from 'node:events'
import { pathToFileURL } from 'node:url'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { noiseProtocolName } from '../src/noise/cipher-suite.js'
import { dhKeyPairFromPrivate } from '../src/noise/dh.js'
import { HandshakeXX } from '../src/noise/handshake-xx.js'
import { SecureStream } from '../src/secure-stream.js'
import { dial, listen } from './helpers.js'

interface TheirCipherState {
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array | Uint8ArrayList
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array | Uint8ArrayList): Uint8Array | Uint8ArrayList
}
interface TheirState {
  ss: { h: Uint8Array; split(): [TheirCipherState, TheirCipherState] }
  rs: Uint8Array | Uint8ArrayList | undefined
  writeMessageA(p: Uint8Array): Uint8ArrayList
  writeMessageB(p: Uint8Array): Uint8ArrayList
  writeMessageC(p: Uint8Array): Uint8ArrayList
  readMessageA(m: Uint8ArrayList): Uint8Array | Uint8ArrayList
  readMessageB(m: Uint8ArrayList): Uint8Array | Uint8ArrayList
  readMessageC(m: Uint8ArrayList): Uint8Array | Uint8ArrayList
}
interface TheirCrypto {
  generateKeypair(): { publicKey: Uint8Array; privateKey: Uint8Array }
}

const protocolJs = new URL('../node_modules/@chainsafe/libp2p-noise/dist/src/protocol.js', import.meta.url)
const { XXHandshakeState } = (await import(pathToFileURL(protocolJs.pathname).href)) as {
  XXHandshakeState: new (init: object) => TheirState
}
const cryptoJs = new URL('../node_modules/@chainsafe/libp2p-noise/dist/src/crypto.js', import.meta.url)
const { wrapCrypto } = (await import(pathToFileURL(cryptoJs.pathname).href)) as {
  wrapCrypto(c: unknown): TheirCrypto
}
const { pureJsCrypto: raw } = (await import('@chainsafe/libp2p-noise/crypto')) as { pureJsCrypto: unknown }
// Their handshake state takes the wrapped interface (generateKeypair, dh, hkdf, hash, encrypt, decrypt).
const pureJsCrypto = wrapCrypto(raw)

const bytes = (b: Uint8Array | Uint8ArrayList): Buffer =>
  Buffer.from(b instanceof Uint8ArrayList ? b.subarray() : b)
const list = (b: Uint8Array): Uint8ArrayList => new Uint8ArrayList(b)
const prologue = Buffer.from('PYP2P-SECURE/1\r\n')

function theirs(initiator: boolean): { state: TheirState; staticPublic: Buffer } {
  const s = pureJsCrypto.generateKeypair()
  const state = new XXHandshakeState({
    crypto: pureJsCrypto,
    protocolName: noiseProtocolName('ChaChaPoly'),
    prologue,
    initiator,
    s,
  })
  return { state, staticPublic: Buffer.from(s.publicKey) }
}

function ours(initiator: boolean): { hs: HandshakeXX; staticPublic: Buffer } {
  const staticKeyPair = dhKeyPairFromPrivate(pureJsCrypto.generateKeypair().privateKey)
  return {
    hs: new HandshakeXX({ initiator, staticKeyPair, prologue, cipher: 'ChaChaPoly' }),
    staticPublic: staticKeyPair.publicKey,
  }
}

describe('Noise XX interoperates with @chainsafe/libp2p-noise', () => {
  it('uses the protocol both implement', () => {
    expect(noiseProtocolName('ChaChaPoly')).toBe('Noise_XX_25519_ChaChaPoly_SHA256')
  })

  it('we initiate, they respond', () => {
    const me = ours(true)
    const peer = theirs(false)
    const p = (s: string): Buffer => Buffer.from(s)
    expect(bytes(peer.state.readMessageA(list(me.hs.writeMessage(p('one')))))).toEqual(p('one'))
    expect(me.hs.readMessage(bytes(peer.state.writeMessageB(p('two'))))).toEqual(p('two'))
    expect(bytes(peer.state.readMessageC(list(me.hs.writeMessage(p('three')))))).toEqual(p('three'))
    expect(me.hs.remoteStatic).toEqual(peer.staticPublic)
    expect(bytes(peer.state.rs!)).toEqual(me.staticPublic)
    const mine = me.hs.split()
    expect(mine.handshakeHash).toEqual(Buffer.from(peer.state.ss.h))
    // The initiator sends with the first key of Split(), the responder with the second.
    const [theirReceive, theirSend] = peer.state.ss.split()
    const empty = Buffer.alloc(0)
    for (let i = 0; i < 3; i++) {
      const out = mine.send.encryptWithAd(empty, p(`to them ${i}`))
      expect(bytes(theirReceive.decryptWithAd(empty, out))).toEqual(p(`to them ${i}`))
      const back = bytes(theirSend.encryptWithAd(empty, p(`to us ${i}`)))
      expect(mine.receive.decryptWithAd(empty, back)).toEqual(p(`to us ${i}`))
    }
  })

  it('they initiate, we respond', () => {
    const me = ours(false)
    const peer = theirs(true)
    const p = (s: string): Buffer => Buffer.from(s)
    expect(me.hs.readMessage(bytes(peer.state.writeMessageA(p('a'))))).toEqual(p('a'))
    expect(bytes(peer.state.readMessageB(list(me.hs.writeMessage(p('b')))))).toEqual(p('b'))
    expect(me.hs.readMessage(bytes(peer.state.writeMessageC(p('c'))))).toEqual(p('c'))
    expect(me.hs.remoteStatic).toEqual(peer.staticPublic)
    const mine = me.hs.split()
    expect(mine.handshakeHash).toEqual(Buffer.from(peer.state.ss.h))
    const [theirSend, theirReceive] = peer.state.ss.split()
    const empty = Buffer.alloc(0)
    const out = mine.send.encryptWithAd(empty, p('from the responder'))
    expect(bytes(theirReceive.decryptWithAd(empty, out))).toEqual(p('from the responder'))
    const back = bytes(theirSend.encryptWithAd(empty, p('from the initiator')))
    expect(mine.receive.decryptWithAd(empty, back)).toEqual(p('from the initiator'))
  })

  it('a changed byte in their message fails our read', () => {
    const me = ours(false)
    const peer = theirs(true)
    me.hs.readMessage(bytes(peer.state.writeMessageA(Buffer.alloc(0))))
    const b = me.hs.writeMessage(Buffer.alloc(0))
    peer.state.readMessageB(list(b))
    const c = bytes(peer.state.writeMessageC(Buffer.from('payload')))
    c[5] = (c[5] ?? 0) ^ 1
    expect(() => me.hs.readMessage(c)).toThrow()
  })

  it('our SecureStream frames and theirs are the same on the wire, both ways (batches, and writes over one frame)', async () => {
    const me = ours(true)
    const peer = theirs(false)
    peer.state.readMessageA(list(me.hs.writeMessage(Buffer.alloc(0))))
    me.hs.readMessage(bytes(peer.state.writeMessageB(Buffer.alloc(0))))
    peer.state.readMessageC(list(me.hs.writeMessage(Buffer.alloc(0))))
    const mine = me.hs.split()
    const [theirReceive, theirSend] = peer.state.ss.split()
    const { server, port, next } = await listen()
    const socket = await dial(port)
    const raw = await next()
    const stream = new SecureStream(socket, {
      ...mine,
      head: Buffer.alloc(0),
      remoteNodeId: '00'.repeat(20),
      remotePublicKey: '',
    })
    const empty = Buffer.alloc(0)
    // Ours to theirs: a batch of lines written in one tick, then one write larger than a frame.
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ünïcode\r\n`)
    stream.cork()
    for (const line of lines) stream.write(line)
    stream.uncork()
    const big = Buffer.alloc(100_000, 7)
    stream.write(big)
    const want = Buffer.concat([Buffer.from(lines.join('')), big])
    let received = Buffer.alloc(0)
    const plain: Buffer[] = []
    while (Buffer.concat(plain).length < want.length) {
      const [chunk] = (await once(raw, 'data')) as [Buffer]
      received = Buffer.concat([received, chunk])
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const length = received.readUInt16BE(0)
        plain.push(bytes(theirReceive.decryptWithAd(empty, received.subarray(2, 2 + length))))
        received = received.subarray(2 + length)
      }
    }
    expect(Buffer.concat(plain)).toEqual(want)
    expect(plain.length).toBe(3) // the lines in one frame, the big write in two
    // Theirs to ours: frames of their encryption, written in pieces.
    const sent = [Buffer.from('from them\n'), Buffer.alloc(65_000, 3)]
    const frames = Buffer.concat(
      sent.map((p) => {
        const c = bytes(theirSend.encryptWithAd(empty, p))
        return Buffer.concat([Buffer.from([c.length >> 8, c.length & 0xff]), c])
      }),
    )
    const got: Buffer[] = []
    const all = new Promise<void>((resolve) => {
      stream.on('data', (c: Buffer) => {
        got.push(c)
        if (Buffer.concat(got).length === 65_010) resolve()
      })
    })
    for (let at = 0; at < frames.length; at += 7_001) raw.write(frames.subarray(at, at + 7_001))
    await all
    expect(Buffer.concat(got)).toEqual(Buffer.concat(sent))
    stream.destroy()
    raw.destroy()
    server.close()
  })
})
