import type { Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { secureInbound, secureOutbound } from '../src/index.js'
import { dial, listen } from './helpers.js'

// The framing package's LineSocket, unchanged, over a SecureStream: it uses only members SecureStream
// has (Duplex + addresses, setKeepAlive, setNoDelay), so the change framing needs is in its types.
let server: Awaited<ReturnType<typeof listen>>
beforeAll(async () => {
  server = await listen()
})
afterAll(() => {
  server.server.close()
})

describe('LineSocket over a SecureStream', () => {
  it('sends and receives lines, reports addresses, and closes both ends', async () => {
    const client = await dial(server.port)
    const inbound = await server.next()
    const [a, b] = await Promise.all([
      secureOutbound(client, { identity: NodeIdentity.generate() }),
      secureInbound(inbound, { identity: NodeIdentity.generate() }),
    ])
    const left = new LineSocket(a.stream as unknown as Socket)
    const right = new LineSocket(b.stream as unknown as Socket)
    expect(left.remotePort).toBe(server.port)
    for (let i = 0; i < 1000; i++) left.sendLine(`line ${i}`)
    const got: string[] = []
    for await (const line of right) {
      got.push(line)
      if (got.length === 1000) break
    }
    expect(got[999]).toBe('line 999')
    right.sendLine('PONG')
    expect(await left.readLine({ timeout: 5_000 })).toBe('PONG')
    left.close()
    expect((await right.closed).reason).toBe('peer')
    expect((await left.closed).reason).toBe('local')
  })
})
