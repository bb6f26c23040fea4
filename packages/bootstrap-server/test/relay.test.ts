/**
 * The embedded @pyp2p/dht-msg relay: one process, one port. A RelayClient talks to a real
 * BootstrapServer and delivers messages between two nodes while the rendezvous protocol goes on.
 */
import { once } from 'node:events'
import { RelayClient, type TransportMessage } from '@pyp2p/dht-msg'
import { afterEach, describe, expect, it } from 'vitest'
import { type BootstrapServer, BootstrapServerError } from '../src/index.js'
import { nodeId, startServer, TestClient, WAIT_MS } from './helpers.js'

let server: BootstrapServer | undefined
const cleanups: Array<() => unknown> = []

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
  await server?.close()
  server = undefined
})

async function relayClient(port: number): Promise<RelayClient> {
  const c = await RelayClient.connect({ host: '127.0.0.1', port, signal: AbortSignal.timeout(WAIT_MS) })
  cleanups.push(() => c.close())
  return c
}

function nextMessage(c: RelayClient): Promise<TransportMessage> {
  return once(c, 'message', { signal: AbortSignal.timeout(WAIT_MS) }).then(([m]) => m as TransportMessage)
}

describe('embedded relay', () => {
  it('delivers a message between two nodes through the bootstrap server’s own port', async () => {
    const started = await startServer({ idleTimeoutMs: 200, sweepIntervalMs: 20 })
    server = started.server
    expect(server.relay).toBeDefined()
    const alice = await relayClient(started.port)
    const bob = await relayClient(started.port)
    expect(server.stats().relaySessions).toBe(2)
    const got = nextMessage(bob)
    await alice.send(bob.nodeId, 'connect back to me, please')
    expect(await got).toMatchObject({ from: alice.nodeId, message: 'connect back to me, please' })
    // A message whose relay line is far over the rendezvous limit of 1,024 characters (about 4 KB).
    const big = 'x'.repeat(3000)
    const gotBig = nextMessage(alice)
    await bob.send(alice.nodeId, big)
    expect((await gotBig).message).toBe(big)
    // Authenticated relay connections are held: the idle sweep (200 ms here) does not close them,
    // while a quiet rendezvous connection is closed by it.
    const quiet = await TestClient.connect(started.port)
    cleanups.push(() => quiet.close())
    expect(await quiet.next()).toMatchObject({ type: 'ERROR', code: 'ERR_IDLE_TIMEOUT' })
    const late = nextMessage(bob)
    await alice.send(bob.nodeId, 'still connected')
    expect((await late).message).toBe('still connected')
    expect(alice.isConnected && bob.isConnected).toBe(true)
    // Rendezvous commands keep working next to the relay.
    const node = await TestClient.connect(started.port)
    cleanups.push(() => node.close())
    expect(await node.request(`PASSIVE READY 4000 1 ${nodeId(1)}`)).toEqual({ type: 'OK', what: 'PASSIVE' })
  })

  it('a message waits for a recipient that connects later; close() ends the relay too', async () => {
    const started = await startServer()
    server = started.server
    const alice = await relayClient(started.port)
    const bob = await relayClient(started.port)
    const bobId = bob.nodeId
    const identity = bob.identity
    await bob.close()
    await alice.send(bobId, 'while you were away')
    expect(server.stats().relayQueued).toBe(1)
    const back = await RelayClient.connect({
      host: '127.0.0.1',
      port: started.port,
      identity,
      signal: AbortSignal.timeout(WAIT_MS),
    })
    cleanups.push(() => back.close())
    expect((await nextMessage(back)).message).toBe('while you were away')
    const dropped = once(back, 'disconnected', { signal: AbortSignal.timeout(WAIT_MS) })
    await server.close()
    await dropped
    expect(server.stats().relaySessions).toBe(0)
  })

  it('relay: RelayServerOptions tunes the embedded relay', async () => {
    const started = await startServer({ relay: { maxMessageBytes: 64 } })
    server = started.server
    const alice = await relayClient(started.port)
    const bob = await relayClient(started.port)
    await expect(alice.send(bob.nodeId, 'y'.repeat(100))).rejects.toMatchObject({
      code: 'ERR_MESSAGE_TOO_LARGE',
    })
    const got = nextMessage(bob)
    await alice.send(bob.nodeId, 'small')
    expect((await got).message).toBe('small')
  })

  it('relay: false serves no relay; a clashing service is refused', async () => {
    const started = await startServer({ relay: false })
    server = started.server
    expect(server.relay).toBeUndefined()
    const c = await TestClient.connect(started.port)
    cleanups.push(() => c.close())
    expect(await c.request(`RELAY PYP2P-MSG/1 ${nodeId(1)}`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_UNKNOWN_COMMAND',
    })
    const clash = { name: 'mine', commands: ['SEND'], handleLine() {} }
    const { BootstrapServer } = await import('../src/index.js')
    expect(() => new BootstrapServer({ host: '127.0.0.1', port: 0, services: [clash] })).toThrow(
      BootstrapServerError,
    )
    const ok = new BootstrapServer({ host: '127.0.0.1', port: 0, services: [clash], relay: false })
    await ok.close()
  })
})
