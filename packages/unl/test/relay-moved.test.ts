// A UNL that names a relay its node has left (the relay went away, or the node's reservation moved to
// the server both nodes use): the dialler's CircuitRelayer tries its own first relay next, over real
// loopback relays. A failure that says nothing about where the target is (here: no reservation at
// either relay) reports the named relay's error.
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import type { IncomingConnection } from '../src/index.js'
import { activeNode, startCircuitRelay } from './fixtures/circuit-relay.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const startRelay = () => startCircuitRelay(cleanups)

/** An active node whose relayer knows `own`; reserved at `reserveAt` when given; its UNL names `named`. */
const node = (own: number, reserveAt?: number, named?: number) =>
  activeNode(cleanups, {
    own,
    ...(reserveAt !== undefined && { reserveAt }),
    ...(named !== undefined && { named }),
  })

describe('a UNL naming a relay its node left', () => {
  it('the named relay is gone: the circuit goes through our own relay, where the target reserved', async () => {
    const server = await startRelay()
    const old = await startRelay()
    await old.close() // nothing listens on its port any more
    const bob = await node(server.port, server.port, old.port)
    const alice = await node(server.port)
    const got = once(bob.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await alice.connector.connectWithReport(bob.unl.text, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'relay', relay: `127.0.0.1:${server.port}` })
    const [incoming] = (await got) as [IncomingConnection]
    result.connection.sendLine('through the relay bob moved to')
    expect(await incoming.connection.readLine({ timeout: WAIT })).toBe('through the relay bob moved to')
  })

  it('the named relay is up but holds no reservation for the target any more: the same', async () => {
    const server = await startRelay()
    const old = await startRelay()
    const bob = await node(server.port, server.port, old.port)
    const alice = await node(server.port)
    const result = await alice.connector.connectWithReport(bob.unl.text, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'relay', relay: `127.0.0.1:${server.port}` })
  })

  it('reserved at neither: the named relay’s ERR_NO_RESERVATION', async () => {
    const server = await startRelay()
    const old = await startRelay()
    const bob = await node(server.port, undefined, old.port)
    const alice = await node(server.port)
    const err = await alice.connector.connect(bob.unl, { timeout: WAIT }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_CONNECT_FAILED' })
    const attempts = (err as { attempts: { method: string; error?: { code?: string; message?: string } }[] })
      .attempts
    const relay = attempts.find((a) => a.method === 'relay')?.error
    expect(relay?.code).toBe('ERR_NO_RESERVATION')
  })
})
