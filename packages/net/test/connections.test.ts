import type { LineSocket } from '@pyp2p/framing'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import type { Net } from '../src/index.js'
import { nextConnection, until, WAIT_MS } from './helpers.js'

describe('bootstrap, advertise and lines', () => {
  it('a node connects to every listed node; lines flow both ways; events carry who and how', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const [a, b, c] = tn.nodes as [Net, Net, Net]
    const seen = Promise.all([nextConnection(a), nextConnection(b)])
    const peers = await c.bootstrap()
    expect(peers.map((p) => p.nodeId).sort()).toEqual([a.nodeId, b.nodeId].sort())
    expect(peers.every((p) => p.direction === 'outbound' && p.method === 'bootstrap')).toBe(true)
    const [ina, inb] = await seen
    expect(ina.info).toMatchObject({ nodeId: c.nodeId, direction: 'inbound', method: 'incoming' })
    expect(inb.info.nodeId).toBe(c.nodeId)
    for (const con of c) con.sendLine(`hi ${c.info(con)!.nodeId}`)
    expect(await ina.con.readLine({ timeout: WAIT_MS })).toBe(`hi ${a.nodeId}`)
    expect(await inb.con.readLine({ timeout: WAIT_MS })).toBe(`hi ${b.nodeId}`)
    ina.con.sendLine('back from a')
    const toA = c.connections().find((con) => c.info(con)!.nodeId === a.nodeId)!
    expect(await toA.readLine({ timeout: WAIT_MS })).toBe('back from a')
  })

  it('the original event loop: for (con of net) for (line of con), woken by synchronize()', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [alice, bob] = tn.nodes as [Net, Net]
    await bob.bootstrap()
    for (const con of bob) for (const n of [1, 2, 3]) con.sendLine(`line ${n}`)
    const got: string[] = []
    const deadline = AbortSignal.timeout(WAIT_MS)
    while (got.length < 3) {
      for (const con of alice) for (const line of con) got.push(line)
      if (got.length < 3) expect(await alice.synchronize({ signal: deadline })).toBe(true)
    }
    expect(got).toEqual(['line 1', 'line 2', 'line 3'])
    expect(await alice.synchronize({ timeout: 1 })).toBe(false)
  })

  it('async iteration yields the connections there and those that join, and ends at stop()', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const [a, b, c] = tn.nodes as [Net, Net, Net]
    await b.bootstrap() // b -> a, b -> c
    await until([a], () => a.connections().length === 1, 'a to see b')
    const yielded: string[] = []
    const loop = (async () => {
      for await (const con of a) yielded.push(a.info(con)!.nodeId)
    })()
    await c.bootstrap() // c -> a (c is already connected to b)
    await until([a], () => a.connections().length === 2, 'a to see c')
    await a.stop()
    await loop
    expect(yielded).toEqual([b.nodeId, c.nodeId])
  })

  it('broadcast() reaches every connection but the source', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const [a, b, c] = tn.nodes as [Net, Net, Net]
    await a.bootstrap()
    await until(
      [b, c],
      () => b.connections().length === 1 && c.connections().length === 1,
      'b and c to see a',
    )
    const [toB] = a.connections().filter((con) => a.info(con)!.nodeId === b.nodeId)
    expect(a.broadcast('news', toB)).toBe(1)
    expect(await c.connections()[0]!.readLine({ timeout: WAIT_MS })).toBe('news')
    expect(b.connections()[0]!.queuedLines).toBe(0)
  })
})

describe('limits', () => {
  it('maxOutbound bounds bootstrap()', async () => {
    await using tn = await createTestnet({ nodes: 3 })
    const node = await tn.createNode({ maxOutbound: 2, advertise: false })
    expect(await node.bootstrap()).toHaveLength(2)
    expect(await node.bootstrap()).toEqual([])
    expect(node.connections()).toHaveLength(2)
    const third = tn.nodes.find(
      (n) => n !== node && !node.connections().some((c) => node.info(c)!.nodeId === n.nodeId),
    )!
    await expect(node.unl.connect(third.unl.value)).rejects.toMatchObject({ code: 'ERR_MAX_OUTBOUND' })
  })

  it('maxInbound: a full node refuses with ERR_PEER_FULL; the dialler never holds the connection', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const host = await tn.createNode({ maxInbound: 1 })
    const b = await tn.createNode({ advertise: false })
    const c = await tn.createNode({ advertise: false })
    await b.bootstrap()
    await until([host], () => host.connections().length === 1, 'the first inbound connection')
    c.on('connection', () => expect.fail('c must not see a connection the host refused'))
    expect(await c.bootstrap()).toEqual([]) // refused inside the upgrade, after its hello
    const err = await c.unl.connect(host.unl.value).catch((e: unknown) => e)
    // the report shows the refusal; it ends the plan: the other methods are listed, not tried
    type Attempt = { ok: boolean; skipped?: boolean; error?: { code?: string } }
    const attempts = (err as { attempts: Attempt[] }).attempts
    expect(attempts[0]).toMatchObject({ ok: false, error: { code: 'ERR_PEER_FULL' } })
    expect(attempts.slice(1).every((a) => a.skipped === true)).toBe(true)
    expect(c.connections()).toEqual([])
    expect(host.connections().map((con) => host.info(con)!.nodeId)).toEqual([b.nodeId])
  })
})

describe('self and duplicate connections', () => {
  it('p2p: never to ourselves, one connection per node', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [a, b] = tn.nodes as [Net, Net]
    await expect(a.unl.connect(a.unl.value)).rejects.toMatchObject({ code: 'ERR_CONNECT_SELF' })
    await b.bootstrap()
    await until([a], () => a.connections().length === 1, 'a to see b')
    expect(await b.bootstrap()).toEqual([]) // already connected to the only other node
    await expect(a.unl.connect(b.unl.value)).rejects.toMatchObject({ code: 'ERR_DUPLICATE_CONNECTION' })
    // A node listed under our own id (a second process with our key) is skipped too.
    const twin = await tn.createNode({ identity: a.identity, advertise: false })
    const peers = await twin.bootstrap()
    // b admits the twin only if its connection is the one both keep (asked for by the larger id)
    expect(peers.map((p) => p.nodeId)).toEqual(twin.nodeId > b.nodeId ? [b.nodeId] : [])
  })

  it('p2p: the node refuses a duplicate (ERR_DUPLICATE): net.unl.connect() fails with ERR_DUPLICATE_CONNECTION', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const a = await tn.createNode({ advertise: false })
    const b = await tn.createNode({ advertise: false })
    const arrived = nextConnection(b)
    await a.unl.connect(b.unl.value)
    await arrived
    // A second process with a's key: b keeps the connection a asked for (same asker: the old one stays).
    const twin = await tn.createNode({ identity: a.identity, advertise: false })
    b.on('connection', () => expect.fail('b must not take the duplicate'))
    const err = await twin.unl.connect(b.unl.value).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_DUPLICATE_CONNECTION' })
    expect((err as Error).message).toContain(b.nodeId)
    expect((err as Error).cause).toMatchObject({ code: 'ERR_CONNECT_FAILED' })
    expect(twin.connections()).toEqual([])
    expect(b.connections().map((con) => b.info(con)!.nodeId)).toEqual([a.nodeId])
  })

  it('p2p: two nodes dialling each other at once keep one and the same connection', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [a, b] = tn.nodes as [Net, Net]
    await Promise.all([a.bootstrap(), b.bootstrap()])
    const settled = (): boolean => {
      const [ca] = a.connections()
      const [cb] = b.connections()
      return (
        a.connections().length === 1 &&
        b.connections().length === 1 &&
        ca!.localPort === cb!.remotePort &&
        ca!.remotePort === cb!.localPort
      )
    }
    await until([a, b], settled, 'one shared connection')
    a.connections()[0]!.sendLine('ping')
    expect(await b.connections()[0]!.readLine({ timeout: WAIT_MS })).toBe('ping')
  })

  it('direct: duplicates and connections to our own id are allowed (for tests)', async () => {
    await using tn = await createTestnet({ nodes: 2, node: { netType: 'direct' } })
    const [a, b] = tn.nodes as [Net, Net]
    await b.bootstrap()
    const events: string[] = []
    const second = await a.unl.connect(b.unl.value, { success: (_con, info) => events.push(info.method) })
    expect(events).toEqual(['lan']) // same WAN address (127.0.0.1): the LAN method
    await until(
      [a, b],
      () => a.connections().length === 2 && b.connections().length === 2,
      'two connections a-b',
    )
    expect(a.connections()).toContain(second)
    const twin = await tn.createNode({ identity: a.identity, advertise: false })
    const peers = await twin.bootstrap()
    expect(peers.map((p) => p.nodeId).sort()).toEqual([a.nodeId, b.nodeId].sort())
  })

  it('unl.connect() failure goes to the failure callback', async () => {
    await using tn = await createTestnet({ nodes: 1 })
    const [a] = tn.nodes as [Net]
    const failures: string[] = []
    await a.unl
      .connect(a.unl.value, { failure: (err) => failures.push((err as Error & { code: string }).code) })
      .catch(() => undefined)
    expect(failures).toEqual(['ERR_CONNECT_SELF'])
  })
})

describe('dead connections', () => {
  it('a connection closed by the peer leaves the net at once, with a disconnect event', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [a, b] = tn.nodes as [Net, Net]
    const incoming = nextConnection(a)
    await b.bootstrap()
    const { con } = await incoming
    const gone = new Promise<LineSocket>((resolve) => b.once('disconnect', (c) => resolve(c)))
    con.close()
    const lost = await gone
    expect(lost.isOpen).toBe(false)
    expect(b.connections()).toEqual([])
    await until([a], () => a.connections().length === 0, 'a to drop its side')
    // The slot is free again: b reconnects.
    expect((await b.bootstrap()).map((p) => p.nodeId)).toEqual([a.nodeId])
  })
})
