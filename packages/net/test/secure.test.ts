// Security of a Net over real loopback sockets: the impersonation from issue 13 refused, another key
// at a UNL's address refused with ERR_PEER_ID_MISMATCH, secure/plain mixes failing fast both ways,
// pending handshakes bounded apart from maxInbound, and the identity options.
import { once } from 'node:events'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UNL } from '@pyp2p/unl'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net, NodeIdentity } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function rawClient(port: number): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = connect(port, '127.0.0.1')
  const received: Buffer[] = []
  socket.on('data', (b: Buffer) => received.push(b))
  socket.on('error', () => {})
  await once(socket, 'connect', { signal: AbortSignal.timeout(WAIT_MS) })
  cleanups.push(() => socket.destroy())
  return { socket, received }
}

const closed = (s: Socket): Promise<unknown> =>
  s.closed ? Promise.resolve() : once(s, 'close', { signal: AbortSignal.timeout(WAIT_MS) })

describe('a secure Net (the default)', () => {
  it('does not take a raw client that writes a hello with another node’s id for that node', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [a, b] = tn.nodes as [Net, Net]
    const seen: string[] = []
    a.on('connection', (_con, info) => seen.push(info.nodeId))
    const { socket } = await rawClient(a.port)
    socket.write(`PYP2P-CONNECT/1 ${'ab'.repeat(32)} ${b.nodeId}\r\n`)
    await closed(socket) // the node hung up on it
    // The first connection a ever reports is b's own, made with b's key.
    const arrived = nextConnection(a)
    await b.unl.connect(a.unl.value)
    const { info } = await arrived
    expect(info.nodeId).toBe(b.nodeId)
    expect(seen).toEqual([b.nodeId])
  })

  it('fails with ERR_PEER_ID_MISMATCH when another key answers at a UNL’s address', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const [a, b, impostor] = tn.nodes as [Net, Net, Net]
    let reached = 0
    impostor.on('connection', () => {
      reached += 1
    })
    // a's id at the impostor's address (what a hijacked listing or a forged UNL gives)
    const forged = new UNL({ ...UNL.parse(impostor.unl.value).toFields(), nodeId: a.nodeId })
    const err = await b.unl.connect(forged.text).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_CONNECT_FAILED' })
    const attempts = (err as { attempts: Array<{ ok: boolean; error?: { code?: string } }> }).attempts
    expect(attempts[0]).toMatchObject({ ok: false, error: { code: 'ERR_PEER_ID_MISMATCH' } })
    expect(b.connections()).toHaveLength(0)
    const arrived = nextConnection(impostor)
    await b.unl.connect(impostor.unl.value)
    await arrived
    expect(reached).toBe(1) // only the honest connection to the impostor's own id
  })

  it('bounds pending handshakes apart from maxInbound, each for the handshake timeout', async () => {
    await using tn = await createTestnet({
      nodes: 2,
      node: { maxPendingHandshakes: 2, handshakeTimeout: 1_500, maxInbound: 1 },
    })
    const [a, b] = tn.nodes as [Net, Net]
    const silent = [await rawClient(a.port), await rawClient(a.port)]
    const third = await rawClient(a.port)
    await closed(third.socket) // refused at once: two handshakes pending already
    expect(third.received).toHaveLength(0)
    expect(silent.map((s) => s.socket.closed)).toEqual([false, false])
    // The silent ones are closed when the handshake timeout runs out...
    await Promise.all(silent.map((s) => closed(s.socket)))
    // ...and never held the one inbound slot: an honest peer gets it.
    const arrived = nextConnection(a)
    await b.unl.connect(a.unl.value)
    expect((await arrived).info.nodeId).toBe(b.nodeId)
  })
})

describe('secure: false', () => {
  it('two plain nodes speak the original’s plain lines', async () => {
    await using tn = await createTestnet({ nodes: 2, node: { secure: false } })
    const [a, b] = tn.nodes as [Net, Net]
    const arrived = nextConnection(a)
    const con = await b.unl.connect(a.unl.value)
    const { con: other } = await arrived
    con.sendLine('plain')
    expect(await other.readLine({ timeout: WAIT_MS })).toBe('plain')
  })

  it('a secure node dialling a plain one fails fast, typed, on both sides', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const plain = await tn.createNode({ secure: false })
    const secure = await tn.createNode({})
    const err = await secure.unl.connect(plain.unl.value).catch((e: unknown) => e)
    const attempts = (err as { attempts: Array<{ error?: { code?: string } }> }).attempts
    expect(attempts[0]?.error?.code).toBe('ERR_HANDSHAKE_CLOSED')
    expect(plain.connections()).toHaveLength(0)
  })

  it('a plain node dialling a secure one is closed at once with ERR_SECURE_PEER', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const plain = await tn.createNode({ secure: false })
    const secure = await tn.createNode({})
    let reached = 0
    secure.on('connection', () => {
      reached += 1
    })
    const con = await plain.unl.connect(secure.unl.value)
    expect((await con.closed).error).toMatchObject({ code: 'ERR_SECURE_PEER' })
    expect(reached).toBe(0)
  })
})

describe('ciphers', () => {
  it('connects nodes whose cipher lists differ but share one, version 1 included', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const standard = await tn.createNode({})
    const chachaFirst = await tn.createNode({ ciphers: ['ChaChaPoly', 'AESGCM'] })
    const v1 = await tn.createNode({ ciphers: ['ChaChaPoly'] }) // speaks what earlier builds speak
    for (const [from, to] of [
      [chachaFirst, standard],
      [v1, standard],
      [v1, chachaFirst],
    ] as const) {
      const arrived = nextConnection(to)
      const con = await from.unl.connect(to.unl.value)
      const { con: other } = await arrived
      con.sendLine('over an agreed cipher')
      expect(await other.readLine({ timeout: WAIT_MS })).toBe('over an agreed cipher')
    }
  })

  it('fails a connect with ERR_NO_COMMON_CIPHER when the lists share none', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const aes = await tn.createNode({ ciphers: ['AESGCM'] })
    const chacha = await tn.createNode({ ciphers: ['ChaChaPoly'] })
    const err = await aes.unl.connect(chacha.unl.value).catch((e: unknown) => e)
    const attempts = (err as { attempts: Array<{ error?: { code?: string } }> }).attempts
    expect(attempts[0]?.error?.code).toBe('ERR_NO_COMMON_CIPHER')
    expect(chacha.connections()).toHaveLength(0)
  })

  it('refuses a bad ciphers option with ERR_INVALID_OPTION', () => {
    for (const ciphers of [[], ['AESGCM', 'AESGCM'], ['RC4']]) {
      expect(() => new Net({ ciphers: ciphers as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
      )
    }
  })
})

describe('identity options', () => {
  it('loads or creates a 0600 key file, so the node id survives a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pyp2p-net-id-'))
    cleanups.push(() => rm(dir, { recursive: true, force: true }))
    const path = join(dir, 'node.key')
    await using tn = await createTestnet({ nodes: 0 })
    const first = await tn.createNode({ identity: path, advertise: false })
    expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600')
    expect(first.identity.nodeId).toBe(first.nodeId)
    await first.stop()
    const again = await tn.createNode({ identity: path, advertise: false })
    expect(again.nodeId).toBe(first.nodeId)
  })

  it('refuses a nodeId other than the identity’s when secure, and keeps it when plain', async () => {
    const identity = NodeIdentity.generate()
    expect(() => new Net({ identity, nodeId: 'ab'.repeat(20) })).toThrow(
      expect.objectContaining({ code: 'ERR_NODE_ID_MISMATCH' }),
    )
    expect(() => new Net({ nodeId: 'ab'.repeat(20) })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    await using tn = await createTestnet({ nodes: 0 })
    const plain = await tn.createNode({ secure: false, nodeId: 'ab'.repeat(20), advertise: false })
    expect(plain.nodeId).toBe('ab'.repeat(20))
  })

  it('logs into the relay with the same key (dhtNode as an address)', async () => {
    const identity = NodeIdentity.generate()
    await using tn = await createTestnet({ nodes: 1, relay: true })
    const node = await tn.createNode({ identity })
    expect(node.nodeId).toBe(identity.nodeId)
    // the relay holds a session authenticated under that id (disconnect() says whether it had one)
    expect(tn.relay?.disconnect(identity.nodeId)).toBe(true)
  })
})
