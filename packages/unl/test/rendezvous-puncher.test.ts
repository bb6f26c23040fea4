// RendezvousPuncher with UnlConnector against a real @pyp2p/bootstrap-server on loopback. Without a
// NAT, @pyp2p/punch connects "direct" (the target listens) instead of by simultaneous open; the lab test
// (connect.lab.test.ts) shows the real punch through two cone NATs.
import { once } from 'node:events'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import type { LineSocket } from '@pyp2p/framing'
import type { NatBehaviour } from '@pyp2p/punch'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type IncomingConnection,
  RendezvousPuncher,
  UNL,
  UnlConnector,
  UnlError,
  upgradeOutbound,
} from '../src/index.js'

const WAIT = 10_000
const preserving: NatBehaviour = { type: 'preserving', samples: [] }
let server: BootstrapServer
let rendezvous: { host: string; port: number }
const cleanups: Array<() => unknown> = []

beforeAll(async () => {
  // These tests exercise punching with made-up node ids and no keys; ownership proofs are tested in
  // @pyp2p/bootstrap-server and @pyp2p/punch, so this server serves unsigned v1 clients.
  server = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
  rendezvous = { host: '127.0.0.1', port: (await server.listen()).port }
})
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})
afterAll(() => server?.close())

async function startPuncher(nodeId: string, nat?: NatBehaviour): Promise<RendezvousPuncher> {
  const puncher = await RendezvousPuncher.start({
    server: rendezvous,
    nodeId,
    ...(nat !== undefined && { nat }),
    signal: AbortSignal.timeout(WAIT),
  })
  cleanups.push(() => puncher.close())
  return puncher
}

function simultaneous(nodeId: string, wan: string, puncher: RendezvousPuncher): UNL {
  return new UNL({
    nodeId,
    nodeType: 'simultaneous',
    natType: puncher.natType,
    forwarding: 'none',
    port: 0,
    wanAddress: wan,
    lanAddress: wan,
  })
}

function connector(unl: UNL, puncher: RendezvousPuncher): UnlConnector {
  // Plain lines: these node ids are made up (no keys); secure-punch.test.ts punches securely.
  const c = new UnlConnector({ unl, puncher, secure: false })
  cleanups.push(() => c.close())
  return c
}

const nextConnection = (c: UnlConnector): Promise<IncomingConnection> =>
  once(c, 'connection', { signal: AbortSignal.timeout(WAIT) }).then(([v]) => v as IncomingConnection)

async function exchange(a: LineSocket, b: LineSocket): Promise<void> {
  a.sendLine('ping')
  expect(await b.readLine({ timeout: WAIT })).toBe('ping')
  b.sendLine('pong')
  expect(await a.readLine({ timeout: WAIT })).toBe('pong')
  a.close()
  b.close()
}

describe('RendezvousPuncher', () => {
  it('detects the NAT (none on loopback: preserving) and registers the node with the server', async () => {
    const before = server.stats()
    const p = await startPuncher('a1'.repeat(20))
    expect(p.natType).toBe('preserving')
    expect(p.nat?.samples.length).toBeGreaterThan(0)
    expect(p.isRegistered).toBe(true)
    expect(server.stats().simultaneousNodes).toBe(before.simultaneousNodes + 1)
    p.close()
    expect(p.isRegistered).toBe(false)
  })

  it('connects two simultaneous nodes by punch, both sides seeing the method and the lines', async () => {
    const [idA, idB] = ['aa'.repeat(20), 'bb'.repeat(20)]
    const [pa, pb] = await Promise.all([startPuncher(idA, preserving), startPuncher(idB, preserving)])
    const a = connector(simultaneous(idA, '127.0.0.2', pa), pa)
    const b = connector(simultaneous(idB, '127.0.0.3', pb), pb)
    const incoming = nextConnection(b)
    const result = await a.connectWithReport(b.unl, { timeout: WAIT })
    expect(result.method).toBe('punch')
    expect(result.attempts[0]).toMatchObject({ method: 'punch', ok: true })
    const other = await incoming
    expect(other).toMatchObject({ method: 'punch', nodeId: idA })
    await exchange(result.connection, other.connection)
  })

  it('keeps connections punched to it before a connector listens, and hands them over', async () => {
    const [idA, idB] = ['ac'.repeat(20), 'bd'.repeat(20)]
    const [pa, pb] = await Promise.all([startPuncher(idA, preserving), startPuncher(idB, preserving)])
    const ours = simultaneous(idA, '127.0.0.2', pa)
    const theirs = simultaneous(idB, '127.0.0.3', pb)
    const raw = await pa.punch({
      ours,
      theirs,
      nonce: '5'.repeat(64),
      master: true,
      signal: AbortSignal.timeout(WAIT),
    })
    // what the connector does with a punched connection: the outbound upgrade step (the hello)
    const { connection: con } = await upgradeOutbound(raw, {
      nodeId: idA,
      nonce: '5'.repeat(64),
      secure: false,
    })
    cleanups.push(() => con.close())
    // Only now does b get a connector; the punched connection was waiting in the puncher.
    const b = connector(theirs, pb)
    const got = await nextConnection(b)
    expect(got).toMatchObject({ method: 'punch', nodeId: idA })
    await exchange(con, got.connection)
  })

  it('reports a punch to an unregistered node with @pyp2p/punch’s typed error in the attempts', async () => {
    const idA = 'ab'.repeat(20)
    const pa = await startPuncher(idA, preserving)
    const a = connector(simultaneous(idA, '127.0.0.2', pa), pa)
    const nobody = new UNL({ ...a.unl.toFields(), nodeId: 'ef'.repeat(20), wanAddress: '127.0.0.4' })
    const err = await a.connect(nobody, { timeout: WAIT }).then(
      () => {
        throw new Error('expected a rejection')
      },
      (e: unknown) => e as UnlError,
    )
    expect(err).toBeInstanceOf(UnlError)
    expect(err.code).toBe('ERR_CONNECT_FAILED')
    expect(err.attempts?.[0]).toMatchObject({
      method: 'punch',
      ok: false,
      error: { code: 'ERR_SERVER_ERROR', stage: 'coordination', serverCode: 'ERR_NO_SUCH_NODE' },
    })
  })

  it('registers again when the rendezvous server restarts, and is punched to after that', async () => {
    const first = new BootstrapServer({ host: '127.0.0.1', port: 0, allowUnsigned: true })
    const own = { host: '127.0.0.1', port: (await first.listen()).port }
    cleanups.push(() => first.close())
    const [idA, idB] = ['ad'.repeat(20), 'be'.repeat(20)]
    const pb = await RendezvousPuncher.start({ server: own, nodeId: idB, nat: preserving })
    cleanups.push(() => pb.close())
    const b = connector(simultaneous(idB, '127.0.0.3', pb), pb)
    const dropped = once(pb, 'unregistered', { signal: AbortSignal.timeout(WAIT) })
    await first.close()
    await dropped
    expect(pb.isRegistered).toBe(false)
    const registered = once(pb, 'registered', { signal: AbortSignal.timeout(WAIT) })
    const second = new BootstrapServer({ host: '127.0.0.1', port: own.port, allowUnsigned: true })
    await second.listen()
    cleanups.push(() => second.close())
    await registered
    expect(pb.isRegistered).toBe(true)
    const pa = await RendezvousPuncher.start({ server: own, nodeId: idA, nat: preserving })
    cleanups.push(() => pa.close())
    const a = connector(simultaneous(idA, '127.0.0.2', pa), pa)
    const incoming = nextConnection(b)
    const result = await a.connectWithReport(b.unl, { timeout: WAIT })
    expect(result.method).toBe('punch')
    await exchange(result.connection, (await incoming).connection)
  })

  it('refuses to punch once closed', async () => {
    const idA = 'cc'.repeat(20)
    const pa = await startPuncher(idA, preserving)
    pa.close()
    pa.close() // idempotent
    const unl = simultaneous(idA, '127.0.0.2', pa)
    await expect(
      pa.punch({
        ours: unl,
        theirs: unl,
        nonce: '1'.repeat(64),
        master: true,
        signal: AbortSignal.timeout(WAIT),
      }),
    ).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })
})
