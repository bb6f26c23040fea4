/**
 * A node's inbound slots under attack from one network, on loopback (127.0.1.0/24 attacks, the
 * legitimate node comes from 127.0.0.1: two /24s of the loopback /8): per-network caps, idle eviction
 * from the most-represented network, fair eviction of pending handshakes, and a full node's typed
 * refusal in the dialler's report (issue 21). The lab version (slots.lab.test.ts) attacks from a real
 * /24 and /64 in a namespace.
 */
import { once } from 'node:events'
import type { Socket } from 'node:net'
import type { LineSocket } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net, type NetOptions } from '../src/index.js'
import { helloAndSilent, silentSocket } from './fixtures/attacker.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function node(options: NetOptions = {}): Promise<Net> {
  const net = new Net({
    netType: 'direct',
    passiveBind: '127.0.0.1',
    passivePort: 0,
    enableForwarding: false,
    ...options,
  })
  cleanups.push(() => net.stop())
  await net.start()
  return net
}

const closed = (s: Socket): Promise<unknown> => (s.closed ? Promise.resolve() : once(s, 'close'))

const attackers = (n: number) => Array.from({ length: n }, (_, i) => `127.0.1.${i + 10}`)

/** Hello-and-silent connections, one after the other; their LineSockets are closed after the test. */
async function helloFlood(target: Net, from: string[]) {
  const out = []
  for (const a of from) {
    const r = await helloAndSilent('127.0.0.1', target.port, a, target.nodeId)
    if (r.ok) cleanups.push(() => r.con.close())
    out.push(r)
  }
  return out
}

/** A legitimate node from 127.0.0.1 connects and exchanges a line both ways. */
async function exchange(host: Net, legit: Net): Promise<LineSocket> {
  const arrived = nextConnection(host)
  const con = await legit.unl.connect(host.unl.value)
  const { con: other, info } = await arrived
  expect(info).toMatchObject({ nodeId: legit.nodeId, host: '127.0.0.1' })
  con.sendLine('legit')
  expect(await other.readLine({ timeout: WAIT_MS })).toBe('legit')
  other.sendLine('welcome')
  expect(await con.readLine({ timeout: WAIT_MS })).toBe('welcome')
  return con
}

describe('inbound slots by network', () => {
  it('one /24 holds at most maxPerPrefix (half of maxInbound); the rest get ERR_PEER_FULL; others get in', async () => {
    const host = await node({ maxInbound: 4 })
    const flood = await helloFlood(host, attackers(6))
    expect(flood.map((r) => r.ok)).toEqual([true, true, false, false, false, false])
    const refused = flood.filter((r) => !r.ok)
    for (const r of refused) expect(r).toMatchObject({ code: 'ERR_PEER_FULL' })
    expect(refused[0]).toMatchObject({
      message: expect.stringMatching(/127\.0\.1\.0\/24 holds 2 inbound slots/),
    })
    await exchange(host, await node())
    expect(host.connections()).toHaveLength(3)
  })

  it('full of silent connections: a newcomer evicts the longest silent one of the largest network', async () => {
    const host = await node({
      maxInbound: 2,
      inboundLimits: { maxPerIp: 2, maxPerPrefix: 2, idleEvictAfter: 0 },
    })
    const flood = await helloFlood(host, attackers(2))
    expect(flood.every((r) => r.ok)).toBe(true)
    const first = (flood[0] as { con: LineSocket }).con
    const left = once(host, 'disconnect')
    await exchange(host, await node())
    expect((await first.closed).reason).not.toBe('local') // the oldest attacker was evicted
    expect((await left)[1]).toMatchObject({ direction: 'inbound', host: '127.0.1.10' })
    expect(
      host
        .connections()
        .map((c) => host.info(c)!.host)
        .sort(),
    ).toEqual(['127.0.0.1', '127.0.1.11'])
  })

  it('a full node whose peers are not idle refuses: ERR_PEER_FULL in the dialler’s report', async () => {
    const host = await node({ maxInbound: 2, inboundLimits: { maxPerIp: 2, maxPerPrefix: 2 } })
    expect((await helloFlood(host, attackers(2))).every((r) => r.ok)).toBe(true)
    const legit = await node()
    let joined = 0
    legit.on('connection', () => {
      joined += 1
    })
    const err = await legit.unl.connect(host.unl.value).catch((e: unknown) => e)
    const attempts = (err as { attempts: Array<{ ok: boolean; error?: { code?: string } }> }).attempts
    expect(attempts[0]).toMatchObject({ ok: false, error: { code: 'ERR_PEER_FULL' } })
    expect(joined).toBe(0)
    expect(legit.connections()).toEqual([])
  })
})

describe('pending handshakes by network', () => {
  it('silent sockets of one network fill them; a newcomer closes the oldest and gets through', async () => {
    // Timeouts long enough that only the fair eviction closes a silent socket here.
    const host = await node({ maxPendingHandshakes: 3, handshakeTimeout: 60_000, helloTimeout: 60_000 })
    const silent: Socket[] = []
    for (const a of attackers(3)) {
      const s = await silentSocket('127.0.0.1', host.port, a)
      cleanups.push(() => s.destroy())
      silent.push(s)
    }
    const fourth = await silentSocket('127.0.0.1', host.port, '127.0.1.99')
    cleanups.push(() => fourth.destroy())
    await closed(fourth) // its own network holds every pending slot: refused at once
    await exchange(host, await node())
    await closed(silent[0]!) // the oldest pending socket of the largest network made room
    expect(silent.slice(1).map((s) => s.destroyed)).toEqual([false, false])
  })
})

describe('bootstrap() moves on', () => {
  it('a listed node that is full (ERR_PEER_FULL) is replaced by the next one listed', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const full = await tn.createNode({ maxInbound: 1 })
    const free = await tn.createNode({})
    const filler = await tn.createNode({ advertise: false })
    await filler.unl.connect(full.unl.value) // full's only inbound slot
    const dialler = await tn.createNode({ advertise: false, maxOutbound: 1 })
    const peers = await dialler.bootstrap()
    expect(peers.map((p) => p.nodeId)).toEqual([free.nodeId])
    expect(dialler.connections()).toHaveLength(1)
  })
})
