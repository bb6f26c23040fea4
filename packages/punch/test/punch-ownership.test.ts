// Issue 17 from the client side: with an identity, RendezvousClient, RendezvousSession and punch() sign
// what the server requires proof for, against a default (proof-requiring) server on loopback; without
// one they get a clear ERR_SIGNATURE_REQUIRED. BOOTSTRAP skips unproven entries unless asked.
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it } from 'vitest'
import {
  acceptChallenges,
  type NatBehaviour,
  PunchError,
  type PunchResult,
  punch,
  RendezvousClient,
  RendezvousSession,
} from '../src/index.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function server(
  allowUnsigned = false,
): Promise<{ server: BootstrapServer; address: { host: string; port: number } }> {
  const s = new BootstrapServer({ host: '127.0.0.1', port: 0, ...(allowUnsigned && { allowUnsigned }) })
  const { port } = await s.listen()
  cleanups.push(() => s.close())
  return { server: s, address: { host: '127.0.0.1', port } }
}

async function client(
  address: { host: string; port: number },
  who: NodeIdentity | string,
): Promise<RendezvousClient> {
  const c = await RendezvousClient.connect(
    typeof who === 'string'
      ? { server: address, nodeId: who }
      : { server: address, nodeId: who.nodeId, identity: who },
  )
  cleanups.push(() => c.close())
  return c
}

async function rejection(p: Promise<unknown>): Promise<PunchError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(PunchError)
    return err as PunchError
  }
  throw new Error('expected a rejection')
}

describe('signing clients (issue 17)', () => {
  it('RendezvousClient signs READY with an identity; without one the server says ERR_SIGNATURE_REQUIRED', async () => {
    const { server: srv, address } = await server()
    const me = NodeIdentity.generate()
    const signer = await client(address, me)
    expect(signer.asksForProof).toBe(true)
    await signer.registerPassive(5000)
    expect(srv.nodes.get(me.nodeId)).toMatchObject({ ip: '127.0.0.1', port: 5000 })
    const other = NodeIdentity.generate()
    const plain = await client(address, other.nodeId)
    const err = await rejection(plain.registerPassive(5001))
    expect(err).toMatchObject({ code: 'ERR_SIGNATURE_REQUIRED', serverCode: 'ERR_SIGNATURE_REQUIRED' })
    expect(err.message).toMatch(/pass identity/)
    expect(srv.nodes.get(other.nodeId)).toBeUndefined()
    await expect(
      RendezvousClient.connect({ server: address, nodeId: other.nodeId, identity: me }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('RendezvousSession registers and leaves (signed CLEAR on a new connection) with its identity', async () => {
    const { server: srv, address } = await server()
    const me = NodeIdentity.generate()
    const s = new RendezvousSession({ servers: [address], nodeId: me.nodeId, identity: me })
    cleanups.push(() => s.close())
    await s.register('passive', 5000, 4)
    expect(srv.nodes.get(me.nodeId)).toBeDefined()
    await s.leave()
    expect(srv.nodes.get(me.nodeId)).toBeUndefined()
    const bare = new RendezvousSession({ servers: [address], nodeId: NodeIdentity.generate().nodeId })
    cleanups.push(() => bare.close())
    expect(await rejection(bare.register('passive', 5001, 4))).toMatchObject({
      code: 'ERR_SIGNATURE_REQUIRED',
    })
    expect(
      () =>
        new RendezvousSession({ servers: [address], nodeId: me.nodeId, identity: NodeIdentity.generate() }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }))
  })

  it('punch() signs its CANDIDATE: two nodes with keys connect through a default server', async () => {
    const { address } = await server()
    const preserving: NatBehaviour = { type: 'preserving', samples: [] }
    const a = NodeIdentity.generate()
    const b = NodeIdentity.generate()
    const target = await client(address, b)
    await target.registerSimultaneous(1)
    const accepted = new Promise<PunchResult>((resolve, reject) => {
      acceptChallenges({
        client: target,
        server: address,
        nat: preserving,
        onConnection: resolve,
        onError: reject,
      })
    })
    const unsigned = await rejection(
      punch({ server: address, nodeId: a.nodeId, target: b.nodeId, nat: preserving }),
    )
    expect(unsigned).toMatchObject({ code: 'ERR_SIGNATURE_REQUIRED', stage: 'coordination' })
    const result = await punch({
      server: address,
      nodeId: a.nodeId,
      identity: a,
      target: b.nodeId,
      nat: preserving,
    })
    const other = await accepted
    cleanups.push(
      () => result.connection.close(),
      () => other.connection.close(),
    )
    expect(result.peer.nodeId).toBe(b.nodeId)
    expect(other.peer.nodeId).toBe(a.nodeId)
  })

  it('bootstrap() skips unproven entries unless includeUnproven', async () => {
    const { address } = await server(true)
    const v1 = 'a1'.repeat(20)
    const proven = NodeIdentity.generate()
    await (await client(address, v1)).registerPassive(5000)
    await (await client(address, proven)).registerPassive(5001)
    const asker = await client(address, NodeIdentity.generate())
    expect((await asker.bootstrap(10)).map((n) => n.nodeId)).toEqual([proven.nodeId])
    const all = await asker.bootstrap(10, { includeUnproven: true })
    expect(all.map((n) => n.nodeId).sort()).toEqual([proven.nodeId, v1].sort())
    expect(all.find((n) => n.nodeId === v1)?.unproven).toBe(true)
  })
})
