/**
 * Fair shares of the relay: one sender network prefix (here 127.0.1.0/24 on loopback; the relay exempts
 * nothing) cannot fill an offline node's queue, the relay's queue or its connection table, whatever the
 * number of node ids and addresses it uses; the refusals are typed and name the prefix; a sender from
 * another prefix is still served. The store's shares are also tested on their own.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { NodeIdentity, type RelayClient, RelayError } from '../src/index.js'
import { MemoryMessageStore } from '../src/message-store.js'
import type { RelayServerOptions } from '../src/server.js'
import { client, next, startRelay } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function relay(options: RelayServerOptions) {
  const r = await startRelay(options)
  cleanups.push(() => r.server.close())
  return r
}

async function from(port: number, localAddress: string, identity?: NodeIdentity): Promise<RelayClient> {
  const c = await client(port, { localAddress, ...(identity ? { identity } : {}) })
  cleanups.push(() => c.close())
  return c
}

/** Sends until the relay refuses; returns how many were queued and the refusal. */
async function sendUntilRefused(c: RelayClient, to: () => string, max: number) {
  for (let i = 0; i < max; i++) {
    const err = await c.send(to(), `m${i}`).then(
      () => undefined,
      (e: unknown) => e,
    )
    if (err !== undefined) return { queued: i, err: err as RelayError }
  }
  return { queued: max, err: undefined }
}

describe('MemoryMessageStore shares', () => {
  const base = { maxPerNode: 100, maxPerPair: 100, maxTotal: 1000, maxBytes: 1e6 }
  const m = (from: string, to: string, id: string, fromAddress: string, payload = 'aGk') => ({
    from,
    to,
    id,
    payload,
    fromAddress,
    expiresAt: 100,
  })
  const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((x) => x.repeat(40)) as [string, string, string, string]

  it('bounds one sender, one prefix per recipient, one prefix in total and in bytes', () => {
    const s = new MemoryMessageStore({
      ...base,
      maxPerSender: 3,
      maxPerPrefixPerNode: 2,
      maxPerPrefix: 4,
      maxBytesPerPrefix: 12,
    })
    s.put(m(A, B, '1', '10.9.9.1'), 0)
    s.put(m(C, B, '1', '10.9.9.2'), 0)
    // A third message from 10.9.9/24 to B, under another node id and address: its share of B is used.
    expect(() => s.put(m(D, B, '1', '::ffff:10.9.9.3'), 0)).toThrow(
      expect.objectContaining({
        code: 'ERR_QUEUE_FULL',
        limit: 'queue.per-prefix-per-node',
        message: expect.stringContaining('prefix=10.9.9.0/24'),
      }),
    )
    s.put(m(A, C, '2', '10.9.9.1'), 0)
    expect(() => s.put(m(A, D, '3', '10.9.8.1'), 0)).not.toThrow() // A's third
    expect(() => s.put(m(A, D, '4', '10.9.7.1'), 0)).toThrow(
      expect.objectContaining({ limit: 'queue.per-sender' }),
    )
    s.put(m(D, C, '5', '10.9.9.4'), 0) // the prefix's fourth
    expect(() => s.put(m(D, A, '6', '10.9.9.4'), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_RELAY_FULL', limit: 'queue.per-prefix' }),
    )
    expect(() => s.put(m(B, A, '7', '10.9.8.2', 'x'.repeat(10)), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_RELAY_FULL', limit: 'queue.bytes-per-prefix' }),
    )
    // Another prefix is unaffected, and acks give shares back.
    s.put(m(B, A, '8', 'fd00:9::1'), 0)
    expect(s.ack(B, A, '1')).toBe(true)
    s.put(m(D, B, '9', '10.9.9.5'), 0)
  })
})

describe('relay fairness between prefixes', () => {
  it("one prefix cannot fill an offline node's queue; a message from another prefix is delivered", async () => {
    const { port, server } = await relay({ maxQueuedPerNode: 20, maxQueuedPerPrefixPerNode: 5 })
    const bob = NodeIdentity.generate()
    let queued = 0
    for (let i = 1; i <= 3; i++) {
      const attacker = await from(port, `127.0.1.${i}`)
      const r = await sendUntilRefused(attacker, () => bob.nodeId, 10)
      queued += r.queued
      expect(r.err).toBeInstanceOf(RelayError)
      expect(r.err).toMatchObject({
        code: 'ERR_QUEUE_FULL',
        message: expect.stringContaining('prefix=127.0.1.0/24'),
      })
    }
    expect(queued).toBe(5)
    const alice = await from(port, '127.0.2.1')
    await alice.send(bob.nodeId, 'hello bob')
    const bobClient = await from(port, '127.0.3.1', bob)
    const got: string[] = []
    while (!got.includes('hello bob'))
      got.push((await next<{ message: string }>(bobClient, 'message')).message)
    expect(server.limitHits()).toMatchObject({ 'queue.per-prefix-per-node': 3 })
    expect(server.limitsByPrefix()[0]).toMatchObject({
      limit: 'queue.per-prefix-per-node',
      prefix: '127.0.1.0/24',
    })
  })

  it("one prefix cannot fill the relay's queue; another prefix's sender is still served", async () => {
    const { port } = await relay({ maxQueuedPerPrefix: 8 })
    let n = 0
    const anyone = (): string => NodeIdentity.fromSecret(Buffer.alloc(32, ++n)).nodeId
    let queued = 0
    for (let i = 1; i <= 3; i++) {
      const r = await sendUntilRefused(await from(port, `127.0.1.${i}`), anyone, 5)
      queued += r.queued
    }
    expect(queued).toBe(8)
    const last = await sendUntilRefused(await from(port, '127.0.1.9'), anyone, 1)
    expect(last.err).toMatchObject({
      code: 'ERR_RELAY_FULL',
      message: expect.stringContaining('prefix=127.0.1.0/24'),
    })
    const legit = await from(port, '127.0.2.1')
    await expect(legit.send(anyone(), 'served')).resolves.toBeUndefined()
  })

  it('bounds connections per prefix with a typed refusal', async () => {
    const { port, server } = await relay({ maxConnectionsPerPrefix: 2 })
    await from(port, '127.0.1.1')
    await from(port, '127.0.1.2')
    await expect(from(port, '127.0.1.3')).rejects.toMatchObject({
      code: 'ERR_RELAY_FULL',
      message: expect.stringContaining('prefix=127.0.1.0/24'),
    })
    await from(port, '127.0.2.1')
    expect(server.limitHits()).toEqual({ 'connections.per-prefix': 1 })
  })
})
