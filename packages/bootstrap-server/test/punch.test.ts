import { parseServerMessage, type ServerMessage } from '@pyp2p/rendezvous-protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { FIGHT_LEAD_MS } from '../src/fight-delay.js'
import type { BootstrapServer } from '../src/index.js'
import { nodeId, startServer, TestClient, until } from './helpers.js'

let server: BootstrapServer
let port: number
const clients: TestClient[] = []
const A = nodeId(0xa)
const B = nodeId(0xb)

async function client(localAddress?: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  clients.push(c)
  return c
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await server?.close()
})

/** B registers as simultaneous (from 127.0.0.2), A (from 127.0.0.3) asks to punch to it. */
async function challenge(): Promise<{ a: TestClient; b: TestClient; punchId: string }> {
  const b = await client('127.0.0.2')
  expect(await b.request(`SIMULTANEOUS READY 7000 4 ${B}`)).toEqual({ type: 'OK', what: 'SIMULTANEOUS' })
  const a = await client('127.0.0.3')
  const set = await a.request(`CANDIDATE ${B} ${A} TCP 40001 40002`)
  if (set.type !== 'PREDICTION_SET') throw new Error(`expected PREDICTION SET, got ${JSON.stringify(set)}`)
  expect(await b.next()).toEqual({
    type: 'CHALLENGE',
    punchId: set.punchId,
    nodeId: A,
    ip: '127.0.0.3',
    ports: [40001, 40002],
  })
  expect(server.stats().pendingPunches).toBe(1)
  return { a, b, punchId: set.punchId }
}

describe('punch coordination', () => {
  it('CANDIDATE -> CHALLENGE -> ACCEPT -> FIGHT to both sides with RTT-based delays', async () => {
    ;({ server, port } = await startServer({ fightMarginMs: 10 }))
    const { a, b, punchId } = await challenge()
    const fightA = a.next()
    b.send(`ACCEPT ${punchId} TCP 50001 50002`)
    const toB = await b.next()
    const toA = await fightA
    expect(toA).toMatchObject({ type: 'FIGHT', punchId, ip: '127.0.0.2', ports: [50001, 50002] })
    expect(toB).toMatchObject({ type: 'FIGHT', punchId, ip: '127.0.0.3', ports: [40001, 40002] })
    // Both delays are the margin plus half the RTT difference: whole ms in [margin, margin + max rtt).
    for (const f of [toA, toB]) {
      if (f.type !== 'FIGHT') throw new Error('not a FIGHT')
      expect(f.delayMs).toBeGreaterThanOrEqual(10)
      expect(f.delayMs).toBeLessThan(10 + 100)
    }
    expect(a.pings).toBeGreaterThanOrEqual(1)
    expect(b.pings).toBeGreaterThanOrEqual(1)
    expect(server.stats()).toMatchObject({ pendingPunches: 0, coordinations: 1 })
    // The punch is gone: accepting again is an error, and the connection still works.
    const again = await b.request(`ACCEPT ${punchId} TCP 50001`)
    expect(again).toMatchObject({ type: 'ERROR', code: 'ERR_NO_SUCH_PUNCH', punchId })
  })

  it('the candidate gets ERR_PEER_GONE when the target vanishes mid-punch, and nothing is left', async () => {
    ;({ server, port } = await startServer())
    const { a, b, punchId } = await challenge()
    b.con.socket.destroy()
    expect(await a.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PEER_GONE', punchId })
    expect(server.stats()).toMatchObject({ pendingPunches: 0, simultaneousNodes: 0, nodes: 0 })
    // A can go on using its connection.
    const retry = await a.request(`CANDIDATE ${B} ${A} TCP 40001`)
    expect(retry).toMatchObject({ type: 'ERROR', code: 'ERR_NO_SUCH_NODE' })
  })

  it('the target gets ERR_PEER_GONE when the candidate vanishes, and its ACCEPT is refused', async () => {
    ;({ server, port } = await startServer())
    const { a, b, punchId } = await challenge()
    a.con.socket.destroy()
    expect(await b.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PEER_GONE', punchId })
    expect(server.stats()).toMatchObject({ pendingPunches: 0, simultaneousNodes: 1 })
    expect(await b.request(`ACCEPT ${punchId} TCP 1`)).toMatchObject({ code: 'ERR_NO_SUCH_PUNCH', punchId })
  })

  it('REJECT gives the candidate ERR_PUNCH_REJECTED with the reason', async () => {
    ;({ server, port } = await startServer())
    const { a, b, punchId } = await challenge()
    expect(await b.request(`REJECT ${punchId} too busy`)).toEqual({ type: 'OK', what: 'REJECT' })
    expect(await a.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PUNCH_REJECTED', punchId })
    expect(server.stats().pendingPunches).toBe(0)
  })

  it('a target that never answers times both sides out with ERR_PUNCH_TIMEOUT', async () => {
    ;({ server, port } = await startServer({ challengeTimeoutMs: 50, sweepIntervalMs: 10 }))
    const { a, b, punchId } = await challenge()
    expect(await a.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PUNCH_TIMEOUT', punchId })
    expect(await b.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PUNCH_TIMEOUT', punchId })
    expect(server.stats().pendingPunches).toBe(0)
  })

  it('only the challenged connection may ACCEPT; unknown targets and self-punches are refused', async () => {
    ;({ server, port } = await startServer())
    const { a, punchId } = await challenge()
    expect(await a.request(`ACCEPT ${punchId} TCP 1`)).toMatchObject({ code: 'ERR_NO_SUCH_PUNCH' })
    expect(await a.request(`CANDIDATE ${nodeId(0xc)} ${A} TCP 1`)).toMatchObject({ code: 'ERR_NO_SUCH_NODE' })
    expect(await a.request(`CANDIDATE ${A} ${A} TCP 1`)).toMatchObject({ code: 'ERR_NO_SUCH_NODE' })
    // Passive nodes cannot be punched to (they accept direct connections).
    const p = await client()
    await p.request(`PASSIVE READY 80 1 ${nodeId(0xd)}`)
    expect(await a.request(`CANDIDATE ${nodeId(0xd)} ${A} TCP 1`)).toMatchObject({ code: 'ERR_NO_SUCH_NODE' })
    expect(server.stats().pendingPunches).toBe(1)
  })

  it('bounds pending candidates per target', async () => {
    ;({ server, port } = await startServer({ maxCandidatesPerNode: 2 }))
    const b = await client()
    await b.request(`SIMULTANEOUS READY 7000 4 ${B}`)
    const a = await client()
    for (const i of [1, 2])
      expect((await a.request(`CANDIDATE ${B} ${nodeId(i)} TCP 1`)).type).toBe('PREDICTION_SET')
    expect(await a.request(`CANDIDATE ${B} ${nodeId(3)} TCP 1`)).toMatchObject({
      code: 'ERR_TOO_MANY_CANDIDATES',
    })
    // A newer CANDIDATE from the same node replaces its older punch instead of adding one.
    expect(await a.request(`CANDIDATE ${B} ${nodeId(1)} TCP 2`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_REPLACED',
    })
    expect((await a.next()).type).toBe('PREDICTION_SET')
    expect(server.stats().pendingPunches).toBe(2)
  })

  it('a target that re-registers on a new connection gets its pending challenge there', async () => {
    ;({ server, port } = await startServer())
    const { a, b, punchId } = await challenge()
    const b2 = await client('127.0.0.2')
    expect(await b2.request(`SIMULTANEOUS READY 7001 4 ${B}`)).toEqual({ type: 'OK', what: 'SIMULTANEOUS' })
    const moved = await b2.next()
    expect(moved).toMatchObject({ type: 'CHALLENGE', nodeId: A, ports: [40001, 40002] })
    expect(await b.next()).toMatchObject({ type: 'ERROR', code: 'ERR_REPLACED' })
    if (moved.type !== 'CHALLENGE') throw new Error('not a challenge')
    expect(moved.punchId).not.toBe(punchId)
    b.close()
    b2.send(`ACCEPT ${moved.punchId} TCP 1`)
    expect(await b2.next()).toMatchObject({ type: 'FIGHT', ip: '127.0.0.3' })
    expect(await a.next()).toMatchObject({ type: 'FIGHT', ip: '127.0.0.2', ports: [1] })
    await until(() => server.stats().pendingPunches === 0, 'no punches left')
  })

  it('holds FIGHT while the candidate has not answered its first PING, and sends it on the PONG', async () => {
    // A default RTT this large would make the measured side wait ~5 s if it were ever used.
    ;({ server, port } = await startServer({ fightMarginMs: 10, defaultRttMs: 10_000 }))
    const b = await client('127.0.0.2')
    expect(await b.request(`SIMULTANEOUS READY 7000 4 ${B}`)).toEqual({ type: 'OK', what: 'SIMULTANEOUS' })
    const a = await client('127.0.0.3')
    a.autoPong = false
    const set = await a.request(`CANDIDATE ${B} ${A} TCP 40001`)
    if (set.type !== 'PREDICTION_SET') throw new Error(`expected PREDICTION SET, got ${set.type}`)
    expect(await b.next()).toMatchObject({ type: 'CHALLENGE', punchId: set.punchId })
    // The server handles lines in order: its PONG to B's PING comes after it handled the ACCEPT.
    b.send(`ACCEPT ${set.punchId} TCP 50001`)
    expect(await b.request('PING after-accept')).toEqual({ type: 'PONG', token: 'after-accept' })
    expect(server.stats().pendingPunches).toBe(1)
    // Second ACCEPT while held: refused, the held one stands.
    expect(await b.request(`ACCEPT ${set.punchId} TCP 50002`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_NO_SUCH_PUNCH',
    })
    const ping = parseServerMessage(await a.line())
    if (ping.type !== 'PING') throw new Error(`expected the server's PING first, got ${ping.type}`)
    a.send(`PONG ${ping.token}`)
    const toA = await a.next()
    const toB = await b.next()
    expect(toA).toMatchObject({ type: 'FIGHT', punchId: set.punchId, ports: [50001] })
    expect(toB).toMatchObject({ type: 'FIGHT', punchId: set.punchId, ports: [40001] })
    // Both RTTs measured: nothing near the 10 s default.
    for (const f of [toA, toB]) if (f.type === 'FIGHT') expect(f.delayMs).toBeLessThan(5_000)
    expect(server.stats()).toMatchObject({ pendingPunches: 0, coordinations: 1 })
  })

  async function heldPunch(inbound: {
    a?: string
    b?: string
  }): Promise<{ toA: ServerMessage; toB: ServerMessage }> {
    ;({ server, port } = await startServer({ fightMarginMs: 10, defaultRttMs: 10_000 }))
    const b = await client('127.0.0.2')
    expect(await b.request(`SIMULTANEOUS READY 7000 4 ${B}`)).toEqual({ type: 'OK', what: 'SIMULTANEOUS' })
    if (inbound.b !== undefined) expect(await b.request(inbound.b)).toEqual({ type: 'OK', what: 'INBOUND' })
    const a = await client('127.0.0.3')
    a.autoPong = false
    if (inbound.a !== undefined) expect(await a.request(inbound.a)).toEqual({ type: 'OK', what: 'INBOUND' })
    const set = await a.request(`CANDIDATE ${B} ${A} TCP 40001`)
    if (set.type !== 'PREDICTION_SET') throw new Error(`expected PREDICTION SET, got ${set.type}`)
    expect(await b.next()).toMatchObject({ type: 'CHALLENGE', punchId: set.punchId })
    b.send(`ACCEPT ${set.punchId} TCP 50001`)
    // A never answers its PING: after the hold the FIGHT goes out anyway.
    const toB = await b.next()
    const toA = await a.next()
    expect(a.pings).toBe(1)
    return { toA, toB }
  }

  it("a candidate that never answers gets FIGHT after the hold, with the target's RTT for both", async () => {
    const { toA, toB } = await heldPunch({})
    expect(toA).toMatchObject({ type: 'FIGHT', delayMs: 10 })
    expect(toB).toMatchObject({ type: 'FIGHT', delayMs: 10 })
  })

  it('INBOUND: the side behind a resetting router fires FIGHT_LEAD_MS before the other', async () => {
    const { toA, toB } = await heldPunch({ a: 'INBOUND TCP RST', b: 'INBOUND TCP DROP' })
    // The RST side's delay is shorter by the lead (PROTOCOL.md); the DROP side keeps its plain delay.
    expect(toA).toMatchObject({ type: 'FIGHT', delayMs: 10 - FIGHT_LEAD_MS })
    expect(toB).toMatchObject({ type: 'FIGHT', delayMs: 10 })
    expect(server.stats().coordinations).toBe(1)
  })

  it('INBOUND: both behind resetting routers fire together; a bad policy is ERR_MALFORMED', async () => {
    const { toA, toB } = await heldPunch({ a: 'INBOUND TCP RST', b: 'INBOUND TCP RST' })
    expect(toA).toMatchObject({ type: 'FIGHT', delayMs: 10 })
    expect(toB).toMatchObject({ type: 'FIGHT', delayMs: 10 })
    const c = await client()
    expect(await c.request('INBOUND TCP MAYBE')).toMatchObject({ type: 'ERROR', code: 'ERR_MALFORMED' })
  })

  it('a candidate that vanishes while its FIGHT is held: the target gets ERR_PEER_GONE', async () => {
    ;({ server, port } = await startServer())
    const b = await client('127.0.0.2')
    await b.request(`SIMULTANEOUS READY 7000 4 ${B}`)
    const a = await client('127.0.0.3')
    a.autoPong = false
    const set = await a.request(`CANDIDATE ${B} ${A} TCP 40001`)
    if (set.type !== 'PREDICTION_SET') throw new Error(`expected PREDICTION SET, got ${set.type}`)
    expect(await b.next()).toMatchObject({ type: 'CHALLENGE' })
    b.send(`ACCEPT ${set.punchId} TCP 50001`)
    expect(await b.request('PING held')).toEqual({ type: 'PONG', token: 'held' })
    a.con.socket.destroy()
    expect(await b.next()).toMatchObject({ type: 'ERROR', code: 'ERR_PEER_GONE', punchId: set.punchId })
    expect(server.stats()).toMatchObject({ pendingPunches: 0, coordinations: 0 })
  })
})
