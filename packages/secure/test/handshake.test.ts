import { once } from 'node:events'
import type { Server } from 'node:net'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it } from 'vitest'
import { secureInbound, secureOutbound } from '../src/index.js'
import { codeOf, dial, listen } from './helpers.js'

const alice = NodeIdentity.generate()
const bob = NodeIdentity.generate()
const servers: Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

async function connectedPair() {
  const { server, port, next } = await listen()
  servers.push(server)
  const client = await dial(port)
  const inbound = await next()
  return { client, inbound, port, next }
}

describe('secure handshake', () => {
  it('authenticates both sides and carries bytes both ways', async () => {
    const { client, inbound } = await connectedPair()
    const [a, b] = await Promise.all([
      secureOutbound(client, { identity: alice, expectedNodeId: bob.nodeId }),
      secureInbound(inbound, { identity: bob }),
    ])
    expect(a.remoteNodeId).toBe(bob.nodeId)
    expect(a.remotePublicKey).toBe(bob.publicKey)
    expect(b.remoteNodeId).toBe(alice.nodeId)
    expect(a.stream.handshakeHash.equals(b.stream.handshakeHash)).toBe(true)

    const big = Buffer.alloc(1 << 20, 7)
    big.write('end', big.length - 3)
    const received: Buffer[] = []
    let total = 0
    const all = new Promise<void>((resolve) => {
      b.stream.on('data', (c: Buffer) => {
        received.push(c)
        total += c.length
        if (total === big.length) resolve()
      })
    })
    a.stream.write(big)
    await all
    expect(Buffer.concat(received).equals(big)).toBe(true)
    b.stream.write('bye')
    const [reply] = (await once(a.stream, 'data')) as [Buffer]
    expect(reply.toString()).toBe('bye')
    // Ending one side ends the other (a line connection does not stay half open).
    a.stream.end()
    await Promise.all([once(b.stream, 'close'), once(a.stream, 'close')])
  })

  it('fails the dialler with ERR_PEER_ID_MISMATCH before any byte of the wrong peer is delivered', async () => {
    const { client, inbound } = await connectedPair()
    const listener = codeOf(secureInbound(inbound, { identity: bob }))
    const outbound = secureOutbound(client, {
      identity: alice,
      expectedNodeId: NodeIdentity.generate().nodeId,
    })
    expect(await codeOf(outbound)).toBe('ERR_PEER_ID_MISMATCH')
    expect(await listener).toBe('ERR_HANDSHAKE_CLOSED')
    expect(client.destroyed).toBe(true)
  })

  it('delivers application bytes sent right after message 3 (in the same segment)', async () => {
    const { client, inbound } = await connectedPair()
    const listener = secureInbound(inbound, { identity: bob })
    const { stream } = await secureOutbound(client, { identity: alice })
    stream.write('first')
    const { stream: inStream } = await listener
    const [chunk] = (await once(inStream, 'data')) as [Buffer]
    expect(chunk.toString()).toBe('first')
    stream.destroy()
  })

  it('ends a stalled handshake with ERR_HANDSHAKE_TIMEOUT and an aborted one with ERR_ABORTED', async () => {
    const { client, inbound } = await connectedPair()
    // The client says nothing: the listener waits for its prologue until the timeout.
    expect(await codeOf(secureInbound(inbound, { identity: bob, timeout: 50 }))).toBe('ERR_HANDSHAKE_TIMEOUT')
    client.destroy()
    const second = await connectedPair()
    const controller = new AbortController()
    const pending = secureInbound(second.inbound, { identity: bob, signal: controller.signal })
    controller.abort()
    expect(await codeOf(pending)).toBe('ERR_ABORTED')
    expect(await codeOf(secureInbound(second.client, { identity: bob, signal: AbortSignal.abort() }))).toBe(
      'ERR_ABORTED',
    )
  })

  it('rejects a bad timeout or expected id as a caller error', async () => {
    const { client } = await connectedPair()
    expect(() => secureOutbound(client, { identity: alice, expectedNodeId: 'nope' })).toThrow(
      /expectedNodeId/,
    )
    expect(await codeOf(secureOutbound(client, { identity: alice, timeout: -1 }))).toBe('ERR_INVALID_OPTION')
    client.destroy()
  })

  it('keeps other connections working while one peer sends garbage', async () => {
    const { client: bad, inbound: badInbound, port, next } = await connectedPair()
    const failing = codeOf(secureInbound(badInbound, { identity: bob }))
    bad.write(Buffer.from([0xff, 0x00, 0x13, 0x37]))
    const good = await dial(port)
    const goodInbound = await next()
    const [a, b] = await Promise.all([
      secureOutbound(good, { identity: alice, expectedNodeId: bob.nodeId }),
      secureInbound(goodInbound, { identity: bob }),
    ])
    expect(await failing).toBe('ERR_HANDSHAKE_MALFORMED')
    expect(b.remoteNodeId).toBe(alice.nodeId)
    a.stream.destroy()
    bad.destroy()
  })
})
