// Our Noise XX (packages/secure/src/noise) against the published test vectors of both cipher suites we
// speak, Noise_XX_25519_AESGCM_SHA256 and Noise_XX_25519_ChaChaPoly_SHA256 (cacophony's, the vectors
// other Noise libraries test against; fixtures/noise-xx-vectors.json). With the vectors' fixed keys and
// prologue, every handshake message, the handshake hash and every transport message must be the
// published bytes, byte for byte, and each side must read the other's. AESGCM has no second
// implementation in our dependencies (libp2p-noise speaks ChaChaPoly only): these vectors are its check.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isNoiseCipher, noiseProtocolName } from '../src/noise/cipher-suite.js'
import { dhKeyPairFromPrivate } from '../src/noise/dh.js'
import { HandshakeXX } from '../src/noise/handshake-xx.js'

interface Vector {
  protocol_name: string
  init_prologue: string
  init_static: string
  init_ephemeral: string
  resp_prologue: string
  resp_static: string
  resp_ephemeral: string
  handshake_hash: string
  messages: { payload: string; ciphertext: string }[]
}

const { vectors } = JSON.parse(
  readFileSync(new URL('./fixtures/noise-xx-vectors.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }
const hex = (s: string): Buffer => Buffer.from(s, 'hex')
const EMPTY = Buffer.alloc(0)

describe('Noise XX matches the published test vectors', () => {
  it('has a vector for each cipher we speak', () => {
    expect(vectors.map((v) => v.protocol_name).sort()).toEqual([
      noiseProtocolName('AESGCM'),
      noiseProtocolName('ChaChaPoly'),
    ])
  })

  for (const v of vectors) {
    it(v.protocol_name, () => {
      const cipher = v.protocol_name.split('_')[3]
      if (!isNoiseCipher(cipher)) throw new Error(`unexpected vector ${v.protocol_name}`)
      const initiator = new HandshakeXX({
        initiator: true,
        cipher,
        prologue: hex(v.init_prologue),
        staticKeyPair: dhKeyPairFromPrivate(hex(v.init_static)),
        ephemeralKeyPair: dhKeyPairFromPrivate(hex(v.init_ephemeral)),
      })
      const responder = new HandshakeXX({
        initiator: false,
        cipher,
        prologue: hex(v.resp_prologue),
        staticKeyPair: dhKeyPairFromPrivate(hex(v.resp_static)),
        ephemeralKeyPair: dhKeyPairFromPrivate(hex(v.resp_ephemeral)),
      })
      // Messages alternate, initiator first: three handshake messages, then transport messages.
      const [handshake, transport] = [v.messages.slice(0, 3), v.messages.slice(3)]
      handshake.forEach(({ payload, ciphertext }, i) => {
        const [from, to] = i % 2 === 0 ? [initiator, responder] : [responder, initiator]
        const sent = from.writeMessage(hex(payload))
        expect(sent.toString('hex')).toBe(ciphertext)
        expect(to.readMessage(sent).toString('hex')).toBe(payload)
      })
      const mine = initiator.split()
      const theirs = responder.split()
      expect(mine.handshakeHash.toString('hex')).toBe(v.handshake_hash)
      expect(theirs.handshakeHash.toString('hex')).toBe(v.handshake_hash)
      expect(transport.length).toBeGreaterThan(1)
      transport.forEach(({ payload, ciphertext }, i) => {
        const [from, to] = (3 + i) % 2 === 0 ? [mine, theirs] : [theirs, mine]
        const sent = from.send.encryptWithAd(EMPTY, hex(payload))
        expect(sent.toString('hex')).toBe(ciphertext)
        expect(to.receive.decryptWithAd(EMPTY, sent).toString('hex')).toBe(payload)
      })
    })
  }
})
