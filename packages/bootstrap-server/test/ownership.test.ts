/**
 * Issue 17: only the owner of a node id registers, clears or punches as it. Each attack of the issue over
 * real sockets — a hijack, a foreign CLEAR, a spoofed CANDIDATE, replayed signatures — is refused with a
 * typed ERROR and the listing unchanged.
 */
import { NodeIdentity } from '@pyp2p/identity'
import {
  type ClientMessage,
  formatClientMessage,
  type NodeEntry,
  proofFields,
  RENDEZVOUS_SIGNATURE_CONTEXT,
  type ReadyMessage,
  type ServerMessage,
  type SignableMessage,
} from '@pyp2p/rendezvous-protocol'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapServer } from '../src/index.js'
import { Ownership } from '../src/ownership.js'
import { sign, startServer, TestClient } from './helpers.js'

const servers: BootstrapServer[] = []
const clients: TestClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

/** A server as it runs by default (proofs required), unless `allowUnsigned`. */
async function server(options: { allowUnsigned?: boolean; serverId?: string } = {}): Promise<number> {
  const s = await startServer({ allowUnsigned: false, ...options })
  servers.push(s.server)
  return s.port
}

async function client(port: number, from: string): Promise<TestClient> {
  const c = await TestClient.connect(port, from)
  clients.push(c)
  return c
}

function passive(id: string, port: number, clearToken?: string): ReadyMessage {
  return {
    type: 'READY',
    nodeType: 'passive',
    port,
    maxInbound: 4,
    nodeId: id,
    ...(clearToken && { clearToken }),
  }
}

/** The server's passive listing, as a node at another address sees it. */
async function listing(port: number, marked = false): Promise<readonly NodeEntry[]> {
  const c = await client(port, '127.0.0.9')
  const reply = await c.request({ type: 'BOOTSTRAP', count: 100, ...(marked && { marked: true as const }) })
  c.close()
  if (reply.type !== 'NODES') throw new Error(`expected NODES, got ${reply.type}`)
  return reply.nodes
}

function codeOf(reply: ServerMessage): string {
  return reply.type === 'ERROR' ? reply.code : reply.type
}

const TOKEN = 'victims-clear-token-0'
const OTHER_TOKEN = 'attackers-own-token-1'

describe('proof of ownership (issue 17)', () => {
  it('the default server requires a proof, lists a proven node, and greets with a nonce per connection', async () => {
    const port = await server()
    const victim = NodeIdentity.generate()
    const c = await client(port, '127.0.0.2')
    const c2 = await client(port, '127.0.0.2')
    expect(c.hello.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(c2.hello.nonce).not.toBe(c.hello.nonce)
    expect(c2.hello.serverId).toBe(c.hello.serverId)
    expect(codeOf(await c.request(passive(victim.nodeId, 5000)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(await listing(port)).toEqual([])
    expect(await c.request(sign(c, victim, passive(victim.nodeId, 5000, TOKEN)))).toEqual({
      type: 'OK',
      what: 'PASSIVE',
    })
    expect(await listing(port)).toEqual([
      { nodeType: 'passive', nodeId: victim.nodeId, ip: '127.0.0.2', port: 5000 },
    ])
  })

  it('a hijack (same id from a second address, own token) is refused; the owner may move with proof', async () => {
    const port = await server()
    const victim = NodeIdentity.generate()
    const mallory = NodeIdentity.generate()
    const v = await client(port, '127.0.0.2')
    expect(codeOf(await v.request(sign(v, victim, passive(victim.nodeId, 5000, TOKEN))))).toBe('OK')
    const before = await listing(port)
    const m = await client(port, '127.0.0.3')
    expect(codeOf(await m.request(passive(victim.nodeId, 6666, OTHER_TOKEN)))).toBe('ERR_SIGNATURE_REQUIRED')
    // Signed, but with the attacker's own key: that key's id is not the victim's.
    const forged = sign(m, mallory, passive(victim.nodeId, 6666, OTHER_TOKEN))
    expect(codeOf(await m.request(forged))).toBe('ERR_BAD_SIGNATURE')
    expect(await listing(port)).toEqual(before)
    // The owner itself, from a new address, replaces its registration with proof.
    const moved = await client(port, '127.0.0.4')
    expect(codeOf(await moved.request(sign(moved, victim, passive(victim.nodeId, 7000))))).toBe('OK')
    expect(await listing(port)).toEqual([
      { nodeType: 'passive', nodeId: victim.nodeId, ip: '127.0.0.4', port: 7000 },
    ])
  })

  it('with allowUnsigned, v1 entries are unproven (marked on request) and cannot be taken over unsigned', async () => {
    const port = await server({ allowUnsigned: true })
    const owner = NodeIdentity.generate()
    const v1 = '00000000000000000000000000000000000000a1'
    const a = await client(port, '127.0.0.2')
    expect(codeOf(await a.request(passive(v1, 5000, TOKEN)))).toBe('OK')
    expect(codeOf(await a.request(sign(a, owner, passive(owner.nodeId, 5001))))).toBe('OK')
    const m = await client(port, '127.0.0.3')
    expect(codeOf(await m.request(passive(v1, 6666, OTHER_TOKEN)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await m.request(passive(owner.nodeId, 6666)))).toBe('ERR_SIGNATURE_REQUIRED')
    const byId = (nodes: readonly NodeEntry[]) => [...nodes].sort((x, y) => x.port - y.port)
    expect(byId(await listing(port, true))).toEqual([
      { nodeType: 'passive', nodeId: v1, ip: '127.0.0.2', port: 5000, unproven: true },
      { nodeType: 'passive', nodeId: owner.nodeId, ip: '127.0.0.2', port: 5001 },
    ])
    // A v1 client (no MARKED) sees no marker; an unproven entry's own token still clears it.
    expect((await listing(port)).every((n) => n.unproven === undefined)).toBe(true)
    expect(codeOf(await m.request(`CLEAR ${v1} ${TOKEN}`))).toBe('OK')
  })

  it('a foreign CLEAR (unsigned, own token, leaked token, wrong key) is refused; the owner clears with proof', async () => {
    const port = await server()
    const victim = NodeIdentity.generate()
    const mallory = NodeIdentity.generate()
    const v = await client(port, '127.0.0.2')
    expect(codeOf(await v.request(sign(v, victim, passive(victim.nodeId, 5000, TOKEN))))).toBe('OK')
    v.close()
    const before = await listing(port)
    const m = await client(port, '127.0.0.3')
    const clear = (clearToken: string): SignableMessage => ({
      type: 'CLEAR',
      nodeId: victim.nodeId,
      clearToken,
    })
    expect(codeOf(await m.request(clear(OTHER_TOKEN)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await m.request(clear(TOKEN)))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await m.request(sign(m, mallory, clear(TOKEN))))).toBe('ERR_BAD_SIGNATURE')
    expect(await listing(port)).toEqual(before)
    const owner = await client(port, '127.0.0.4')
    expect(codeOf(await owner.request(sign(owner, victim, clear(OTHER_TOKEN))))).toBe('ERR_NO_SUCH_NODE')
    expect(codeOf(await owner.request(sign(owner, victim, clear(TOKEN))))).toBe('OK')
    expect(await listing(port)).toEqual([])
  })

  it('a spoofed CANDIDATE (another node id as own) is refused and the target is never challenged for it', async () => {
    const port = await server()
    const target = NodeIdentity.generate()
    const victim = NodeIdentity.generate()
    const mallory = NodeIdentity.generate()
    const t = await client(port, '127.0.0.2')
    const ready: SignableMessage = {
      type: 'READY',
      nodeType: 'simultaneous',
      port: 5000,
      maxInbound: 4,
      nodeId: target.nodeId,
    }
    expect(codeOf(await t.request(sign(t, target, ready)))).toBe('OK')
    const v = await client(port, '127.0.0.4')
    expect(codeOf(await v.request(sign(v, victim, passive(victim.nodeId, 5001))))).toBe('OK')
    const m = await client(port, '127.0.0.3')
    const spoof: SignableMessage = {
      type: 'CANDIDATE',
      targetNodeId: target.nodeId,
      nodeId: victim.nodeId,
      ports: [4000],
    }
    expect(codeOf(await m.request(spoof))).toBe('ERR_SIGNATURE_REQUIRED')
    expect(codeOf(await m.request(sign(m, mallory, spoof)))).toBe('ERR_BAD_SIGNATURE')
    // The attacker under its own id is a fine candidate: the first CHALLENGE the target sees is that one.
    const own: SignableMessage = { ...spoof, nodeId: mallory.nodeId } as SignableMessage
    expect(codeOf(await m.request(sign(m, mallory, own)))).toBe('PREDICTION_SET')
    expect(await t.next()).toMatchObject({ type: 'CHALLENGE', nodeId: mallory.nodeId, ip: '127.0.0.3' })
  })

  it('a replayed signature is refused: another command, another connection, another server', async () => {
    const port = await server({ serverId: 'server-one' })
    const port2 = await server({ serverId: 'server-two' })
    const victim = NodeIdentity.generate()
    const v = await client(port, '127.0.0.2')
    const ready = sign(v, victim, passive(victim.nodeId, 5000, TOKEN))
    expect(codeOf(await v.request(ready))).toBe('OK')
    const before = await listing(port)
    const proof = ready.proof
    const m = await client(port, '127.0.0.3')
    // Same server, other command: the READY's signature on a CLEAR (the token is even the right one).
    const clear: ClientMessage = {
      type: 'CLEAR',
      nodeId: victim.nodeId,
      clearToken: TOKEN,
      ...(proof && { proof }),
    }
    expect(codeOf(await v.request(clear))).toBe('ERR_BAD_SIGNATURE')
    expect(codeOf(await v.request({ ...ready, port: 6666 }))).toBe('ERR_BAD_SIGNATURE')
    // Same command, another connection (another nonce).
    expect(codeOf(await m.request(ready))).toBe('ERR_BAD_SIGNATURE')
    expect(await listing(port)).toEqual(before)
    // Another server: a proof made for server one's connection, and one re-made with server one's id.
    const other = await client(port2, '127.0.0.3')
    expect(codeOf(await other.request(ready))).toBe('ERR_BAD_SIGNATURE')
    const wrongServer = sign(
      { hello: { ...other.hello, serverId: 'server-one' } } as TestClient,
      victim,
      passive(victim.nodeId, 6666),
    )
    expect(codeOf(await other.request(wrongServer))).toBe('ERR_BAD_SIGNATURE')
    expect(await listing(port2)).toEqual([])
    expect(await listing(port)).toEqual(before)
  })
})

describe('Ownership key cache (issue 17 cost)', () => {
  /** `msg` signed by `who` for connection `connId` of `o`. */
  function signFor<M extends SignableMessage>(o: Ownership, connId: number, who: NodeIdentity, msg: M): M {
    const fields = proofFields(o.nonceOf(connId), o.serverId, formatClientMessage(msg))
    const signature = who.sign(RENDEZVOUS_SIGNATURE_CONTEXT, fields).toString('base64url')
    return { ...msg, proof: { publicKey: who.publicKey, signature } }
  }

  it('checks a repeated key from the cache, and a cached key never proves another key or id', () => {
    const o = new Ownership('server-one', { maxKeys: 2 })
    const [a, b, c] = [NodeIdentity.generate(), NodeIdentity.generate(), NodeIdentity.generate()]
    const readyA = signFor(o, 1, a, passive(a.nodeId, 5000))
    expect(o.refusal(1, readyA)).toBeUndefined()
    expect(o.refusal(1, readyA)).toBeUndefined()
    expect(o.keyStats()).toMatchObject({ size: 1, misses: 1 })
    expect(o.keyStats().hits).toBeGreaterThan(0)
    // A's cached key with B's signature over the same line: refused.
    const byB = signFor(o, 1, b, passive(a.nodeId, 5000))
    const proofB = byB.proof as NonNullable<typeof byB.proof>
    const proofA = readyA.proof as NonNullable<typeof readyA.proof>
    expect(o.refusal(1, { ...readyA, proof: { ...proofA, signature: proofB.signature } })).toMatch(
      /does not verify/,
    )
    // A's cached key and valid signature, claiming B's id: refused (the key hashes to A).
    expect(o.refusal(1, { ...passive(b.nodeId, 5000), proof: proofA })).toMatch(/node id is/)
    // A's signature on another connection: refused, though the key is cached.
    expect(o.refusal(2, readyA)).toMatch(/does not verify/)
    // The bound holds: a third key evicts the least recently used one, which still verifies afterwards.
    expect(o.refusal(1, signFor(o, 1, b, passive(b.nodeId, 5001)))).toBeUndefined()
    expect(o.refusal(1, signFor(o, 1, c, passive(c.nodeId, 5002)))).toBeUndefined()
    expect(o.keyStats()).toMatchObject({ size: 2, evictions: 1 })
    expect(o.refusal(1, readyA)).toBeUndefined()
    expect(o.keyStats().size).toBe(2)
  })
})
