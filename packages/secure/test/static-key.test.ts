// One Noise static key per node (static-key.ts): every handshake of a node presents the same static
// key, signed once; the binding to the identity still holds, also for a peer whose payload this node
// verified before (payload.ts VerifiedPayloads).
import type { Server, Socket } from 'node:net'
import { NodeIdentity } from '@pyp2p/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LENGTH_PREFIX, MESSAGE1_LENGTH } from '../src/constants.js'
import { secureInbound, secureOutbound } from '../src/index.js'
import { type DhKeyPair, generateDhKeyPair } from '../src/noise/dh.js'
import { HandshakeXX } from '../src/noise/handshake-xx.js'
import { encodePayload, VerifiedPayloads } from '../src/payload.js'
import { answerOffer } from '../src/prologue.js'
import { localStatic } from '../src/static-key.js'
import { codeOf, dial, listen } from './helpers.js'

const alice = NodeIdentity.generate()
const bob = NodeIdentity.generate()
const carol = NodeIdentity.generate()
let server: Server
let port: number
let next: () => Promise<Socket>
beforeAll(async () => {
  ;({ server, port, next } = await listen())
})
afterAll(() => {
  server.close()
})

async function handshake(dialler: NodeIdentity, listener: NodeIdentity) {
  const client = await dial(port)
  const inbound = await next()
  const [outbound, accepted] = await Promise.all([
    secureOutbound(client, { identity: dialler, expectedNodeId: listener.nodeId }),
    secureInbound(inbound, { identity: listener }),
  ])
  outbound.stream.destroy()
  accepted.stream.destroy()
  return { outbound, accepted }
}

/**
 * A listener that answers one dialler with message 2 made from `staticKeyPair` and `payload` (which
 * need not belong together), as an impostor would; resolves with the dialler's result code.
 */
async function dialImpostor(staticKeyPair: DhKeyPair, payload: Buffer): Promise<string> {
  const client = await dial(port)
  const inbound = await next()
  inbound.on('error', () => {})
  const result = codeOf(
    secureOutbound(client, { identity: alice, expectedNodeId: bob.nodeId, timeout: 5_000 }).then((session) =>
      session.stream.destroy(),
    ),
  )
  let got = Buffer.alloc(0)
  inbound.on('data', (chunk: Buffer) => {
    const before = got.length
    got = Buffer.concat([got, chunk])
    // The dialler's prologue line (its offer), then message 1.
    const offerEnd = got.indexOf('\r\n') + 2
    const want = offerEnd + LENGTH_PREFIX + MESSAGE1_LENGTH
    if (offerEnd < 2 || before >= want || got.length < want) return
    const { answer, agreement } = answerOffer(got.toString('ascii', 0, offerEnd - 2), ['AESGCM'])
    const noise = new HandshakeXX({
      initiator: false,
      staticKeyPair,
      cipher: agreement.cipher,
      prologue: agreement.noisePrologue,
    })
    noise.readMessage(got.subarray(offerEnd + LENGTH_PREFIX, want))
    const message2 = noise.writeMessage(payload)
    const head = Buffer.alloc(LENGTH_PREFIX)
    head.writeUInt16BE(message2.length)
    inbound.write(Buffer.concat([answer, head, message2]))
  })
  const code = await result
  inbound.destroy()
  return code
}

describe('one static key per node', () => {
  it('presents the same static key, signed once, in every handshake of a node, each way', async () => {
    const first = await handshake(alice, bob)
    const second = await handshake(alice, bob)
    const reverse = await handshake(bob, alice)
    expect(first.accepted.remoteStaticKey).toHaveLength(32)
    expect(second.accepted.remoteStaticKey.equals(first.accepted.remoteStaticKey)).toBe(true)
    expect(reverse.outbound.remoteStaticKey.equals(first.accepted.remoteStaticKey)).toBe(true)
    expect(second.outbound.remoteStaticKey.equals(first.outbound.remoteStaticKey)).toBe(true)
    expect(reverse.accepted.remoteStaticKey.equals(first.outbound.remoteStaticKey)).toBe(true)
    // Alice's static key is hers alone, and the one her identity signed.
    expect(first.accepted.remoteStaticKey.equals(localStatic(alice).keyPair.publicKey)).toBe(true)
    expect(first.outbound.remoteStaticKey.equals(first.accepted.remoteStaticKey)).toBe(false)
    // Sessions still differ: fresh ephemeral keys, so another handshake hash.
    expect(second.outbound.stream.handshakeHash.equals(first.outbound.stream.handshakeHash)).toBe(false)
  })

  it('gives different identities different static keys', () => {
    const keys = [alice, bob, carol].map((id) => localStatic(id).keyPair.publicKey.toString('hex'))
    expect(new Set(keys).size).toBe(3)
    expect(localStatic(alice)).toBe(localStatic(alice))
  })

  it('still rejects another node than the one expected (ERR_PEER_ID_MISMATCH), after a good session', async () => {
    await handshake(alice, bob)
    const client = await dial(port)
    const inbound = await next()
    const listener = codeOf(secureInbound(inbound, { identity: carol, timeout: 5_000 }))
    const outbound = await codeOf(
      secureOutbound(client, { identity: alice, expectedNodeId: bob.nodeId, timeout: 5_000 }),
    )
    expect(outbound).toBe('ERR_PEER_ID_MISMATCH')
    expect(await listener).toMatch(/^ERR_HANDSHAKE_/)
  })

  it("rejects bob's signed payload with another static key, though bob's was verified before", async () => {
    await handshake(alice, bob) // alice has now verified bob's payload with bob's static key
    const { payload } = localStatic(bob)
    expect(await dialImpostor(generateDhKeyPair(), payload)).toBe('ERR_HANDSHAKE_FAILED')
    // The real pair, by the same impostor code, passes: the test's listener is a faithful one.
    expect(await dialImpostor(localStatic(bob).keyPair, payload)).toBe('resolved')
  })

  it("rejects a static key signed by another identity than the payload's key", async () => {
    const staticKeyPair = generateDhKeyPair()
    // Bob's identity key with carol's signature of the static key.
    const carolSigned = encodePayload(carol, staticKeyPair.publicKey)
    const forged = Buffer.concat([bob.publicKeyBytes, carolSigned.subarray(32)])
    expect(await dialImpostor(staticKeyPair, forged)).toBe('ERR_HANDSHAKE_FAILED')
    // Carol's own payload is valid but names carol, not the expected bob.
    expect(await dialImpostor(staticKeyPair, carolSigned)).toBe('ERR_PEER_ID_MISMATCH')
  })

  it('keeps at most its bound of verified payloads, the oldest evicted first', () => {
    const remote = (n: number) => ({ publicKey: `key${n}`, nodeId: `id${n}` })
    const verified = new VerifiedPayloads(2)
    for (const n of [1, 2, 3]) verified.add(`payload${n}`, remote(n))
    expect(verified.size).toBe(2)
    expect(verified.get('payload1')).toBeUndefined()
    expect(verified.get('payload3')).toEqual(remote(3))
    const none = new VerifiedPayloads(0)
    none.add('payload1', remote(1))
    expect(none.size).toBe(0)
  })
})
