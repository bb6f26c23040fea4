import { connectLine } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapServer } from '../src/index.js'
import { nodeId, PROOF_WORDS, startServer, TestClient, until, WAIT_MS } from './helpers.js'

let server: BootstrapServer
let port: number
const clients: TestClient[] = []

async function client(localAddress?: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  clients.push(c)
  return c
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await server?.close()
})

describe('rendezvous commands', () => {
  it('greets with HELLO PYP2P/1 and the observed address', async () => {
    ;({ server, port } = await startServer())
    const raw = await connectLine({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    const hello = await raw.readLine({ timeout: WAIT_MS })
    expect(hello).toMatch(
      new RegExp(
        `^HELLO PYP2P/1 127\\.0\\.0\\.2 ${raw.localPort} ${PROOF_WORDS} PYP2P-MSG/1 PYP2P-CIRCUIT/1$`,
      ),
    )
    raw.close()
    await server.close()
    ;({ server, port } = await startServer({ relay: false, circuitRelay: false }))
    const plain = await connectLine({ host: '127.0.0.1', port, localAddress: '127.0.0.2' })
    expect(await plain.readLine({ timeout: WAIT_MS })).toMatch(
      new RegExp(`^HELLO PYP2P/1 127\\.0\\.0\\.2 ${plain.localPort} ${PROOF_WORDS}$`),
    )
    plain.close()
  })

  it('BOOTSTRAP returns NODES EMPTY, then registered passive nodes, never the asker itself', async () => {
    ;({ server, port } = await startServer())
    const asker = await client()
    expect(await asker.request('BOOTSTRAP 10')).toEqual({ type: 'NODES', nodes: [] })
    const a = await client()
    expect(
      await a.request({ type: 'READY', nodeType: 'passive', port: 4001, maxInbound: 5, nodeId: nodeId(1) }),
    ).toEqual({
      type: 'OK',
      what: 'PASSIVE',
    })
    // The registering connection does not get itself back.
    expect(await a.request('BOOTSTRAP 10')).toEqual({ type: 'NODES', nodes: [] })
    expect(await asker.request('BOOTSTRAP 10')).toEqual({
      type: 'NODES',
      nodes: [{ nodeType: 'passive', nodeId: nodeId(1), ip: '127.0.0.1', port: 4001 }],
    })
    // The passive registration outlives its connection.
    a.close()
    await a.closed()
    expect((await asker.request('BOOTSTRAP 1')).type).toBe('NODES')
    expect(server.stats().passiveNodes).toBe(1)
  })

  it('tells two nodes behind the same IP apart and caps BOOTSTRAP at n', async () => {
    ;({ server, port } = await startServer())
    for (const [i, p] of [
      [1, 5001],
      [2, 5002],
      [3, 5003],
    ] as const) {
      const c = await client()
      expect((await c.request(`PASSIVE READY ${p} 1 ${nodeId(i)}`)).type).toBe('OK')
    }
    const asker = await client()
    const all = await asker.request('BOOTSTRAP 100')
    expect(all.type === 'NODES' && all.nodes.map((n) => n.nodeId).sort()).toEqual([
      nodeId(1),
      nodeId(2),
      nodeId(3),
    ])
    expect(all.type === 'NODES' && new Set(all.nodes.map((n) => n.ip))).toEqual(new Set(['127.0.0.1']))
    const two = await asker.request('BOOTSTRAP 2')
    expect(two.type === 'NODES' && two.nodes.length).toBe(2)
    expect(server.stats().nodes).toBe(3)
  })

  it('does not hand out loopback nodes unless allowed', async () => {
    ;({ server, port } = await startServer({ allowLoopback: false }))
    const a = await client()
    await a.request(`PASSIVE READY 5000 1 ${nodeId(7)}`)
    const b = await client()
    expect(await b.request('BOOTSTRAP 5')).toEqual({ type: 'NODES', nodes: [] })
  })

  it('SOURCE TCP answers the source port the server saw', async () => {
    ;({ server, port } = await startServer())
    const c = await client()
    expect(await c.request('SOURCE TCP 1234')).toEqual({ type: 'REMOTE', port: c.localPort })
  })

  it('CLEAR forgets the nodes of this connection; QUIT closes it', async () => {
    ;({ server, port } = await startServer())
    const a = await client()
    await a.request(`PASSIVE READY 5000 1 ${nodeId(1)}`)
    await a.request(`SIMULTANEOUS READY 5001 1 ${nodeId(2)}`)
    expect(server.stats()).toMatchObject({ passiveNodes: 1, simultaneousNodes: 1 })
    expect(await a.request('CLEAR')).toEqual({ type: 'OK', what: 'CLEAR' })
    expect(server.stats()).toMatchObject({ nodes: 0, passiveNodes: 0, simultaneousNodes: 0 })
    a.send('QUIT')
    expect(await a.closed()).toBe('peer')
  })

  it('CLEAR <node-id> <clear-token> forgets a registration from another connection, only with its token', async () => {
    ;({ server, port } = await startServer())
    const token = 'Tok3n_of-the-owner-x'
    const a = await client('127.0.0.1')
    expect(await a.request(`PASSIVE READY 5000 1 ${nodeId(1)} ${token}`)).toEqual({
      type: 'OK',
      what: 'PASSIVE',
    })
    a.close()
    await a.closed()
    expect(server.stats().passiveNodes).toBe(1)
    // Another node, even behind the same IP, cannot clear it: a wrong token or no token do nothing.
    const mallory = await client('127.0.0.1')
    const wrong = await mallory.request(`CLEAR ${nodeId(1)} ${'x'.repeat(token.length)}`)
    expect(wrong.type === 'ERROR' && wrong.code).toBe('ERR_NO_SUCH_NODE')
    expect(await mallory.request('CLEAR')).toEqual({ type: 'OK', what: 'CLEAR' })
    expect(server.stats().passiveNodes).toBe(1)
    // The owner, on a new connection from another address, clears it with its token.
    const owner = await client('127.0.0.2')
    expect(await owner.request(`CLEAR ${nodeId(1)} ${token}`)).toEqual({ type: 'OK', what: 'CLEAR' })
    expect(server.stats()).toMatchObject({ nodes: 0, passiveNodes: 0 })
    const again = await owner.request(`CLEAR ${nodeId(1)} ${token}`)
    expect(again.type === 'ERROR' && again.code).toBe('ERR_NO_SUCH_NODE')
    // A registration without a token cannot be cleared by token; re-registering replaces the token.
    await owner.request(`PASSIVE READY 5001 1 ${nodeId(2)}`)
    const none = await mallory.request(`CLEAR ${nodeId(2)} ${token}`)
    expect(none.type === 'ERROR' && none.code).toBe('ERR_NO_SUCH_NODE')
    await owner.request(`PASSIVE READY 5001 1 ${nodeId(2)} ${token}`)
    await owner.request(`PASSIVE READY 5001 1 ${nodeId(2)} second-token-0123456`)
    expect((await mallory.request(`CLEAR ${nodeId(2)} ${token}`)).type).toBe('ERROR')
    expect(await mallory.request(`CLEAR ${nodeId(2)} second-token-0123456`)).toEqual({
      type: 'OK',
      what: 'CLEAR',
    })
    expect(server.stats().nodes).toBe(0)
  })

  it('CLEAR by token of a simultaneous node ends its pending challenges for their candidates', async () => {
    ;({ server, port } = await startServer())
    const target = await client()
    await target.request(`SIMULTANEOUS READY 6000 1 ${nodeId(3)} target-token-0123456`)
    const cand = await client()
    const set = await cand.request(`CANDIDATE ${nodeId(3)} ${nodeId(4)} TCP 7000`)
    expect(set.type).toBe('PREDICTION_SET')
    expect((await target.next()).type).toBe('CHALLENGE')
    const other = await client()
    expect(await other.request(`CLEAR ${nodeId(3)} target-token-0123456`)).toEqual({
      type: 'OK',
      what: 'CLEAR',
    })
    expect(await cand.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PEER_GONE' })
    expect(server.stats()).toMatchObject({ nodes: 0, pendingPunches: 0 })
  })

  it('a simultaneous registration ends with its connection and is measured with PING', async () => {
    ;({ server, port } = await startServer())
    const a = await client()
    expect(await a.request(`SIMULTANEOUS READY 5001 3 ${nodeId(9)}`)).toEqual({
      type: 'OK',
      what: 'SIMULTANEOUS',
    })
    expect(await a.request('PING abc')).toEqual({ type: 'PONG', token: 'abc' })
    expect(a.pings).toBe(1)
    expect(server.stats().simultaneousNodes).toBe(1)
    a.close()
    await a.closed()
    await until(() => server.stats().nodes === 0, 'the node to go')
  })

  it('answers unknown and malformed commands with ERROR and keeps the connection usable', async () => {
    ;({ server, port } = await startServer())
    const c = await client()
    const cases: [string, string][] = [
      ['HELLO', 'ERR_UNKNOWN_COMMAND'],
      ['', 'ERR_UNKNOWN_COMMAND'],
      ['bootstrap 5', 'ERR_UNKNOWN_COMMAND'],
      ['BOOTSTRAP 101', 'ERR_MALFORMED'],
      ['BOOTSTRAP -1', 'ERR_MALFORMED'],
      ['PASSIVE READY 99999 1 abc', 'ERR_MALFORMED'],
      ['SOURCE UDP 5', 'ERR_MALFORMED'],
      [`CANDIDATE ${nodeId(1)} ${nodeId(2)} TCP`, 'ERR_MALFORMED'],
      ['ACCEPT x TCP 70000', 'ERR_MALFORMED'],
      ['\u0000\u00ff garbage', 'ERR_UNKNOWN_COMMAND'],
    ]
    for (const [line, code] of cases) {
      const reply = await c.request(line)
      expect(reply.type === 'ERROR' && reply.code, line).toBe(code)
    }
    expect(await c.request('BOOTSTRAP 1')).toEqual({ type: 'NODES', nodes: [] })
  })

  it('bounds nodes per IP and in total', async () => {
    ;({ server, port } = await startServer({ maxNodesPerIp: 2, maxNodes: 3 }))
    const a = await client('127.0.0.1')
    expect((await a.request(`PASSIVE READY 1 0 ${nodeId(1)}`)).type).toBe('OK')
    expect((await a.request(`PASSIVE READY 2 0 ${nodeId(2)}`)).type).toBe('OK')
    const third = await a.request(`PASSIVE READY 3 0 ${nodeId(3)}`)
    expect(third.type === 'ERROR' && third.code).toBe('ERR_TOO_MANY_NODES')
    // Re-registering an existing id from the same IP is not an extra node.
    expect((await a.request(`PASSIVE READY 9 0 ${nodeId(2)}`)).type).toBe('OK')
    const b = await client('127.0.0.2')
    expect((await b.request(`PASSIVE READY 3 0 ${nodeId(3)}`)).type).toBe('OK')
    const full = await b.request(`PASSIVE READY 4 0 ${nodeId(4)}`)
    expect(full.type === 'ERROR' && full.code).toBe('ERR_TOO_MANY_NODES')
    expect(server.stats().nodes).toBe(3)
  })

  it('expires registrations after the node lifetime; a simultaneous node is told and closed', async () => {
    ;({ server, port } = await startServer({ nodeLifetimeMs: 100, sweepIntervalMs: 20 }))
    const p = await client()
    await p.request(`PASSIVE READY 80 1 ${nodeId(1)}`)
    p.close()
    const s = await client()
    await s.request(`SIMULTANEOUS READY 81 1 ${nodeId(2)}`)
    expect(await s.next()).toMatchObject({ type: 'ERROR', code: 'ERR_NODE_EXPIRED' })
    expect(await s.closed()).toBe('peer')
    await until(() => server.stats().nodes === 0, 'every node to expire')
  })

  it('works over IPv6: HELLO shows the address plainly, NODES in brackets', async () => {
    ;({ server, port } = await startServer({ host: '::1' }))
    const cons = await Promise.all([1, 2].map(() => connectLine({ host: '::1', port })))
    const [a, b] = cons as [(typeof cons)[0], (typeof cons)[0]]
    try {
      expect(await a.readLine({ timeout: WAIT_MS })).toMatch(
        new RegExp(`^HELLO PYP2P/1 ::1 ${a.localPort} ${PROOF_WORDS} PYP2P-MSG/1 PYP2P-CIRCUIT/1$`),
      )
      a.sendLine(`PASSIVE READY 9000 1 ${nodeId(6)}`)
      expect(await a.readLine({ timeout: WAIT_MS })).toBe('OK PASSIVE')
      await b.readLine({ timeout: WAIT_MS })
      b.sendLine('BOOTSTRAP 5')
      expect(await b.readLine({ timeout: WAIT_MS })).toBe(`NODES p:${nodeId(6)}:[::1]:9000`)
    } finally {
      a.close()
      b.close()
    }
  })
})
