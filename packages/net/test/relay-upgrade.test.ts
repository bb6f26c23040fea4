// A relayed connection at the Net (issue 14 items 2, 4, 5), on loopback: it moves to a direct
// connection while both ends send numbered lines (none lost, repeated or reordered), `net.info(con)`
// then says how it runs, `upgrade` is emitted; `relayUpgrade: false` keeps it relayed; and when the
// relay's byte limit ends a circuit, `disconnect` says why (`info.code`) at both ends.
import { once } from 'node:events'
import type { LineSocket } from '@pyp2p/framing'
import { UNL } from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import type { Net, PeerInfo } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

/** Bob's UNL as a node elsewhere saw it when it was advertised: behind another NAT, not listening. */
function elsewhere(text: string): string {
  const f = UNL.parse(text).toFields()
  return new UNL({ ...f, wanAddress: '11.0.0.99', lanAddress: '', port: 0 }).text
}

async function relayedPair(alice: Net, bob: Net) {
  const arrived = nextConnection(bob)
  const ours = await alice.unl.connect(elsewhere(bob.unl.value))
  // Checked before any wait: the upgrade (round trips over the circuit) cannot have finished yet.
  expect(alice.info(ours)?.method).toBe('relay')
  const { con: theirs } = await arrived
  return { ours, theirs }
}

const upgraded = (net: Net) =>
  once(net, 'upgrade', { signal: AbortSignal.timeout(WAIT_MS) }) as Promise<[LineSocket, PeerInfo]>

async function pump(con: LineSocket, side: string, stop: () => boolean): Promise<number> {
  let i = 0
  while (!stop()) {
    if (!con.sendLine(`${side}${i++}`)) await con.drain()
    if (i % 16 === 0) await new Promise((r) => setImmediate(r))
  }
  return i
}

async function drainAll(con: LineSocket, count: () => number | undefined): Promise<string[]> {
  const got: string[] = []
  const signal = AbortSignal.timeout(WAIT_MS)
  while (got.length !== count()) got.push(await con.readLine({ signal }))
  return got
}

describe('relayed connection upgrade (Net)', () => {
  it('moves to a direct connection mid-stream; info and the upgrade event say so', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    // No outbound slot: the upgrade's connection replaces the relayed one, it takes no slot of its own.
    const bob = await tn.createNode({ nodeType: 'active', advertise: false, maxOutbound: 0 })
    const alice = await tn.createNode({ nodeType: 'active', advertise: false })
    const upB = upgraded(bob)
    const upA = upgraded(alice)
    const { ours, theirs } = await relayedPair(alice, bob)
    let done = 0
    let failed = false // an upgrade event that never came: stop sending, the checks below fail
    void upA.then(
      () => done++,
      () => (failed = true),
    )
    void upB.then(
      () => done++,
      () => (failed = true),
    )
    const extra = { a: 0, b: 0 }
    let sentA: number | undefined
    let sentB: number | undefined
    const [nA, nB, byB, byA] = await Promise.all([
      pump(ours, 'a', () => failed || (done === 2 && extra.a++ > 100)).then((n) => (sentA = n)),
      pump(theirs, 'b', () => failed || (done === 2 && extra.b++ > 100)).then((n) => (sentB = n)),
      drainAll(theirs, () => sentA),
      drainAll(ours, () => sentB),
    ])
    expect(byB).toEqual(Array.from({ length: nA }, (_, i) => `a${i}`))
    expect(byA).toEqual(Array.from({ length: nB }, (_, i) => `b${i}`))
    const [[conA, infoA], [conB, infoB]] = await Promise.all([upA, upB])
    expect(conA).toBe(ours)
    expect(conB).toBe(theirs)
    expect(['lan', 'direct']).toContain(infoA.method)
    expect(alice.info(ours)).toMatchObject({ method: infoA.method, host: '127.0.0.1' })
    expect(bob.info(theirs)?.method).toBe(infoB.method)
    expect(alice.info(ours)?.reason).toMatch(/moved from its relay/)
    expect(bob.connections()).toEqual([theirs])
  })

  it('relayUpgrade: false: the node never asks, the connection stays relayed', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const bob = await tn.createNode({ nodeType: 'active', advertise: false })
    const alice = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const { ours, theirs } = await relayedPair(alice, bob)
    for (let i = 0; i < 20; i++) {
      ours.sendLine(`a${i}`)
      expect(await theirs.readLine({ timeout: WAIT_MS })).toBe(`a${i}`)
      theirs.sendLine(`b${i}`)
      expect(await ours.readLine({ timeout: WAIT_MS })).toBe(`b${i}`)
    }
    expect(alice.info(ours)?.method).toBe('relay')
    expect(bob.info(theirs)?.method).toBe('relay')
  })
})

describe('why a relayed connection ended (Net)', () => {
  it("the relay's byte limit: disconnect at both ends with code ERR_CIRCUIT_LIMIT", async () => {
    await using tn = await createTestnet({
      nodes: 0,
      server: { circuitRelay: { maxCircuitBytes: 16 * 1024 } },
    })
    const bob = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const alice = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const goneA = once(alice, 'disconnect', { signal: AbortSignal.timeout(WAIT_MS) })
    const goneB = once(bob, 'disconnect', { signal: AbortSignal.timeout(WAIT_MS) })
    const { ours } = await relayedPair(alice, bob)
    for (let i = 0; i < 64 && ours.isOpen; i++) {
      ours.sendLine('x'.repeat(1000))
      await new Promise((r) => setImmediate(r))
    }
    const [[, a], [, b]] = (await Promise.all([goneA, goneB])) as [
      [LineSocket, PeerInfo],
      [LineSocket, PeerInfo],
    ]
    expect(a).toMatchObject({ method: 'relay', code: 'ERR_CIRCUIT_LIMIT' })
    expect(b).toMatchObject({ method: 'relay', code: 'ERR_CIRCUIT_LIMIT' })
  })
})
