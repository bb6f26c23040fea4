/**
 * Proven connections (issue 17, PROTOCOL.md "Proven connections"): a valid proof binds its node id to the
 * connection it came on, so that connection's later commands acting as the id need no signature. A
 * connection that proved nothing, or proved another id, gets the treatment it always got.
 */
import { NodeIdentity } from '@pyp2p/identity'
import type { NodeEntry, ServerMessage } from '@pyp2p/rendezvous-protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapServer } from '../src/index.js'
import { sign, startServer, TestClient } from './helpers.js'

const servers: BootstrapServer[] = []
const clients: TestClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function server(allowUnsigned = false): Promise<number> {
  const s = await startServer({ allowUnsigned })
  servers.push(s.server)
  return s.port
}

async function client(port: number, from: string): Promise<TestClient> {
  const c = await TestClient.connect(port, from)
  clients.push(c)
  return c
}

function ready(nodeType: 'passive' | 'simultaneous', id: string, port: number, token?: string) {
  return {
    type: 'READY',
    nodeType,
    port,
    maxInbound: 4,
    nodeId: id,
    ...(token !== undefined && { clearToken: token }),
  } as const
}

function candidate(target: string, own: string) {
  return { type: 'CANDIDATE', targetNodeId: target, nodeId: own, ports: [4000, 4001] } as const
}

function codeOf(reply: ServerMessage): string {
  return reply.type === 'ERROR' ? reply.code : reply.type
}

/** The server's listing as a node at another address sees it, marked. */
async function listing(port: number): Promise<readonly NodeEntry[]> {
  const c = await client(port, '127.0.0.9')
  const reply = await c.request({ type: 'BOOTSTRAP', count: 100, marked: true })
  c.close()
  if (reply.type !== 'NODES') throw new Error(`expected NODES, got ${reply.type}`)
  return [...reply.nodes].sort((a, b) => a.nodeId.localeCompare(b.nodeId))
}

/** A target registered with proof as a simultaneous node (it gets the CHALLENGEs). */
async function target(port: number): Promise<{ t: TestClient; id: NodeIdentity }> {
  const id = NodeIdentity.generate()
  const t = await client(port, '127.0.0.2')
  expect(codeOf(await t.request(sign(t, id, ready('simultaneous', id.nodeId, 5000))))).toBe('OK')
  return { t, id }
}

/** The next line the target gets, by a PING of its own: nothing came before the PONG when it is the PONG. */
async function nextOfTarget(t: TestClient): Promise<ServerMessage> {
  t.send({ type: 'PING', token: 'probe' })
  return t.next()
}

const TOKEN = 'candidates-clear-token'

describe('proven connections (issue 17)', () => {
  it('the HELLO says proofs bind to the connection', async () => {
    const c = await client(await server(), '127.0.0.3')
    expect(c.hello.connectionProofs).toBe(true)
  })

  it("a proven connection's unsigned CANDIDATE, READY and CLEAR act as the proven id", async () => {
    const port = await server()
    const { t, id: tid } = await target(port)
    const a = NodeIdentity.generate()
    const c = await client(port, '127.0.0.3')
    expect(codeOf(await c.request(sign(c, a, ready('passive', a.nodeId, 6000, TOKEN))))).toBe('OK')
    // No SIG: proven by the READY above on this connection.
    expect(codeOf(await c.request(candidate(tid.nodeId, a.nodeId)))).toBe('PREDICTION_SET')
    expect(await t.next()).toMatchObject({ type: 'CHALLENGE', nodeId: a.nodeId, ip: '127.0.0.3' })
    // A refresh and the CLEAR with the token go unsigned too, and the entry stays proven meanwhile.
    expect(codeOf(await c.request(ready('passive', a.nodeId, 6001, TOKEN)))).toBe('OK')
    const listed = (await listing(port)).find((n) => n.nodeId === a.nodeId)
    expect(listed).toMatchObject({ port: 6001 })
    expect(listed?.unproven).toBeUndefined()
    const clear = { type: 'CLEAR', nodeId: a.nodeId, clearToken: TOKEN } as const
    expect(codeOf(await c.request(clear))).toBe('OK')
    expect((await listing(port)).map((n) => n.nodeId)).toEqual([tid.nodeId])
  })

  it("an unproven connection's unsigned CANDIDATE is refused, from the proven one's address too", async () => {
    const port = await server()
    const { t, id: tid } = await target(port)
    const a = NodeIdentity.generate()
    const proven = await client(port, '127.0.0.3')
    expect(codeOf(await proven.request(sign(proven, a, ready('passive', a.nodeId, 6000))))).toBe('OK')
    const before = await listing(port)
    const other = await client(port, '127.0.0.3')
    expect(codeOf(await other.request(candidate(tid.nodeId, a.nodeId)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await other.request(ready('passive', a.nodeId, 6666)))).toBe('ERR_SIGNATURE_REQUIRED')
    // A proof that fails binds nothing either.
    const mallory = NodeIdentity.generate()
    const forged = sign(other, mallory, candidate(tid.nodeId, a.nodeId))
    expect(codeOf(await other.request(forged))).toBe('ERR_BAD_SIGNATURE')
    expect(codeOf(await other.request(candidate(tid.nodeId, a.nodeId)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(await listing(port)).toEqual(before)
    expect(await nextOfTarget(t)).toEqual({ type: 'PONG', token: 'probe' })
  })

  it('a connection that proved id A cannot act as id B unsigned', async () => {
    const port = await server()
    const { t, id: tid } = await target(port)
    const a = NodeIdentity.generate()
    const b = NodeIdentity.generate()
    const vb = await client(port, '127.0.0.4')
    expect(codeOf(await vb.request(sign(vb, b, ready('passive', b.nodeId, 7000, TOKEN))))).toBe('OK')
    const c = await client(port, '127.0.0.3')
    expect(codeOf(await c.request(sign(c, a, ready('passive', a.nodeId, 6000))))).toBe('OK')
    const before = await listing(port)
    expect(codeOf(await c.request(candidate(tid.nodeId, b.nodeId)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await c.request(ready('passive', b.nodeId, 6666)))).toBe('ERR_SIGNATURE_REQUIRED')
    const clear = { type: 'CLEAR', nodeId: b.nodeId, clearToken: TOKEN } as const
    expect(codeOf(await c.request(clear))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(await listing(port)).toEqual(before)
    expect(await nextOfTarget(t)).toEqual({ type: 'PONG', token: 'probe' })
    // Signed, B's own key may act as B on the same connection (the binding moves to B).
    expect(codeOf(await c.request(sign(c, b, candidate(tid.nodeId, b.nodeId))))).toBe('PREDICTION_SET')
    expect(await t.next()).toMatchObject({ type: 'CHALLENGE', nodeId: b.nodeId })
  })

  it('with allowUnsigned, a proven connection keeps its entry proven and held against unsigned takeovers', async () => {
    const port = await server(true)
    const a = NodeIdentity.generate()
    const c = await client(port, '127.0.0.3')
    expect(codeOf(await c.request(sign(c, a, ready('passive', a.nodeId, 6000))))).toBe('OK')
    expect(codeOf(await c.request(ready('passive', a.nodeId, 6001)))).toBe('OK')
    const other = await client(port, '127.0.0.3')
    expect(codeOf(await other.request(ready('passive', a.nodeId, 6666)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(await listing(port)).toEqual([
      { nodeType: 'passive', nodeId: a.nodeId, ip: '127.0.0.3', port: 6001 },
    ])
  })
})
