import { once } from 'node:events'
import { createServer } from 'node:net'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  acceptChallenges,
  detectNat,
  type NatBehaviour,
  PunchError,
  type PunchResult,
  punch,
  RendezvousClient,
} from '../src/index.js'

const id = (c: string): string => c.repeat(40)
let server: BootstrapServer
let address: { host: string; port: number }
const clients: RendezvousClient[] = []

async function client(nodeId: string): Promise<RendezvousClient> {
  const c = await RendezvousClient.connect({ server: address, nodeId })
  clients.push(c)
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

/** Resolves when `predicate(stats)` holds, polling the server's own counters on its events. */
async function until(predicate: () => boolean, what: string): Promise<void> {
  const deadline = AbortSignal.timeout(10_000)
  while (!predicate()) {
    if (deadline.aborted) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(server.stats())}`)
    await new Promise((r) => setImmediate(r))
  }
}

beforeAll(async () => {
  // These clients speak for made-up ids without keys (v1 clients); punch-ownership.test.ts signs.
  server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
  const info = await server.listen()
  address = { host: '127.0.0.1', port: info.port }
})

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c[Symbol.asyncDispose]()))
})

afterAll(async () => {
  await server?.close()
})

describe('RendezvousClient against @pyp2p/bootstrap-server on loopback', () => {
  it('reads the greeting: without NAT the server sees the local port', async () => {
    const c = await client(id('a'))
    expect(c.observed).toEqual({ ip: '127.0.0.1', port: c.localPort })
    expect(await c.source()).toBe(c.localPort)
  })

  it('two nodes on one address register and are told apart by node id', async () => {
    const a = await client(id('a'))
    const b = await client(id('b'))
    await a.registerPassive(5001)
    await b.registerPassive(5002)
    const nodes = await (await client(id('c'))).bootstrap(10, { includeUnproven: true })
    expect(nodes).toEqual(
      expect.arrayContaining([
        { nodeType: 'passive', nodeId: id('a'), ip: '127.0.0.1', port: 5001, unproven: true },
        { nodeType: 'passive', nodeId: id('b'), ip: '127.0.0.1', port: 5002, unproven: true },
      ]),
    )
    await a.clear()
    const after = await (await client(id('c'))).bootstrap(10, { includeUnproven: true })
    expect(after.map((n) => n.nodeId)).not.toContain(id('a'))
  })

  it('rejects a malformed node id before connecting', async () => {
    const err = await rejection(RendezvousClient.connect({ server: address, nodeId: 'xyz' }))
    expect(err.code).toBe('ERR_INVALID_ARGUMENT')
  })

  it('names an unreachable server at the stage it was asked for', async () => {
    const closed = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await closed.listen()
    await closed.close()
    const err = await rejection(
      RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: id('a'), stage: 'detection' }),
    )
    expect(err).toMatchObject({ code: 'ERR_SERVER_UNREACHABLE', stage: 'detection' })
  })
})

describe('detectNat on loopback', () => {
  it('sees no translation: preserving, with new and reused ports sampled', async () => {
    const nat = await detectNat({ server: address, nodeId: id('d'), tests: 4, reuseTests: 2 })
    expect(nat.type).toBe('preserving')
    expect(nat.samples).toHaveLength(6)
    for (const s of nat.samples) expect(s.externalPort).toBe(s.localPort)
    // the reuse samples came from ports already sampled
    expect(nat.samples[4]?.localPort).toBe(nat.samples[0]?.localPort)
    await until(() => server.stats().connections === 0, 'detection connections to close')
  })
})

describe('punch coordination on loopback', () => {
  const preserving: NatBehaviour = { type: 'preserving', samples: [] }

  it('connects two un-NATted nodes directly (the target listens) and they exchange lines', async () => {
    const target = await client(id('b'))
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
    const result = await punch({ server: address, nodeId: id('a'), target: id('b'), nat: preserving })
    const other = await accepted
    expect(result.method).toBe('direct')
    expect(other.method).toBe('direct')
    expect(result.peer.nodeId).toBe(id('b'))
    expect(other.peer.nodeId).toBe(id('a'))
    result.connection.sendLine('ping')
    expect(await other.connection.readLine({ timeout: 10_000 })).toBe('ping')
    other.connection.sendLine('pong')
    expect(await result.connection.readLine({ timeout: 10_000 })).toBe('pong')
    result.connection.close()
    other.connection.close()
    await until(() => server.stats().pendingPunches === 0, 'the punch to be forgotten')
  })

  it('runs a second round with fresh ports when the simultaneous open fails', async () => {
    const target = await client(id('b'))
    await target.registerSimultaneous(1)
    const deadPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number }
        s.close(() => resolve(port))
      })
    })
    const live = createServer((s) => s.end('from round 2\r\n')).listen(0, '127.0.0.1')
    await once(live, 'listening')
    let challenges = 0
    // A target of our own making: round 1 sends the candidate to a port nobody listens on, round 2 to
    // a listener.
    target.on('challenge', (c) => {
      challenges++
      const port = challenges === 1 ? deadPort : (live.address() as { port: number }).port
      void target.accept(c.punchId, [port]).catch(() => undefined)
    })
    const result = await punch({
      server: address,
      nodeId: id('a'),
      target: id('b'),
      nat: preserving,
      punchTimeout: 300,
    })
    expect(result.rounds).toBe(2)
    expect(challenges).toBe(2)
    expect(await result.connection.readLine({ timeout: 10_000 })).toBe('from round 2')
    result.connection.close()
    live.close()
  })

  it('reports ERR_PUNCH_FAILED at the punch stage when every round fails', async () => {
    const target = await client(id('b'))
    await target.registerSimultaneous(1)
    let challenges = 0
    target.on('challenge', (c) => {
      challenges++
      void target.accept(c.punchId, [1]).catch(() => undefined)
    })
    const err = await rejection(
      punch({
        server: address,
        nodeId: id('a'),
        target: id('b'),
        nat: preserving,
        punchTimeout: 200,
        rounds: 3,
      }),
    )
    expect(err).toMatchObject({ code: 'ERR_PUNCH_FAILED', stage: 'punch' })
    expect(challenges).toBe(3)
  })

  it('an unknown target: ERR_SERVER_ERROR (ERR_NO_SUCH_NODE) at the coordination stage', async () => {
    const err = await rejection(punch({ server: address, nodeId: id('a'), target: id('e'), nat: preserving }))
    expect(err).toMatchObject({
      code: 'ERR_SERVER_ERROR',
      stage: 'coordination',
      serverCode: 'ERR_NO_SUCH_NODE',
    })
  })

  it('an unpredictable NAT on the candidate fails at detection without asking anyone', async () => {
    const before = server.stats().coordinations
    const random: NatBehaviour = { type: 'random', samples: [] }
    const err = await rejection(punch({ server: address, nodeId: id('a'), target: id('b'), nat: random }))
    expect(err).toMatchObject({ code: 'ERR_NAT_UNPREDICTABLE', stage: 'detection' })
    expect(server.stats().coordinations).toBe(before)
  })

  it('a target behind an unpredictable NAT rejects: ERR_PUNCH_REJECTED on the candidate', async () => {
    const target = await client(id('b'))
    await target.registerSimultaneous(1)
    const targetError = new Promise<PunchError>((resolve) => {
      acceptChallenges({
        client: target,
        server: address,
        nat: { type: 'random', samples: [] },
        onConnection: () => resolve(new PunchError('ERR_PUNCH_FAILED', 'punch', 'unexpected connection')),
        onError: resolve,
      })
    })
    const err = await rejection(punch({ server: address, nodeId: id('a'), target: id('b'), nat: preserving }))
    expect(err).toMatchObject({ code: 'ERR_PUNCH_REJECTED', stage: 'coordination' })
    expect(await targetError).toMatchObject({ code: 'ERR_NAT_UNPREDICTABLE', stage: 'detection' })
  })

  it('a target that disappears mid-punch: ERR_PEER_GONE, and the server keeps nothing of it', async () => {
    const target = await client(id('b'))
    await target.registerSimultaneous(1)
    target.once('challenge', () => target.close())
    const err = await rejection(punch({ server: address, nodeId: id('a'), target: id('b'), nat: preserving }))
    expect(err).toMatchObject({ code: 'ERR_PEER_GONE', stage: 'coordination' })
    await until(
      () => server.stats().pendingPunches === 0 && server.stats().simultaneousNodes === 0,
      'the vanished node to be forgotten',
    )
    const again = await rejection(
      punch({ server: address, nodeId: id('a'), target: id('b'), nat: preserving }),
    )
    expect(again.serverCode).toBe('ERR_NO_SUCH_NODE')
  })

  it('honours the signal while waiting for FIGHT: ERR_ABORTED', async () => {
    const target = await client(id('b'))
    await target.registerSimultaneous(1)
    const ac = new AbortController()
    target.once('challenge', () => ac.abort(new Error('caller gave up')))
    const err = await rejection(
      punch({ server: address, nodeId: id('a'), target: id('b'), nat: preserving, signal: ac.signal }),
    )
    expect(err).toMatchObject({ code: 'ERR_ABORTED', stage: 'coordination' })
  })
})
