// A passive node serving a circuit relay for others (issue 14, `circuitRelay: { serve: true, ...limits }`),
// on loopback: a NATed node reserves at it (`reserveAt`), a third node reaches that one through it
// (method 'relay', lines both ways), and the circuit counts against the serving node's own limits.

import { once } from 'node:events'
import { createConnection } from 'node:net'
import type { UnlError } from '@pyp2p/unl'
import { relayOf, UNL } from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

/** A UNL as a node elsewhere would see it: behind another NAT, not listening (so only a relay reaches it). */
function elsewhere(text: string): string {
  const f = UNL.parse(text).toFields()
  return new UNL({ ...f, wanAddress: '11.0.0.99', lanAddress: '', port: 0 }).text
}

const relayAttempt = (err: unknown) => (err as UnlError).attempts?.find((a) => a.method === 'relay')

/** Resolves with the socket error's code once a TCP connect to `address` fails (bounded by the OS). */
function connectError(address: string): Promise<string | undefined> {
  const i = address.lastIndexOf(':')
  return new Promise((resolve) => {
    const s = createConnection({ host: address.slice(0, i), port: Number(address.slice(i + 1)) })
    s.once('connect', () => {
      s.destroy()
      resolve(undefined)
    })
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code))
  })
}

describe('a passive node serving a circuit relay', () => {
  it('a NATed node reserves at it, another reaches that node through it, lines flow both ways', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const relayNode = await tn.createNode({
      nodeType: 'passive',
      advertise: false,
      circuitRelay: { serve: true },
    })
    const at = relayNode.startReport.circuitRelay
    expect(at).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(at).not.toBe(tn.serverAddress)
    expect(relayNode.startReport.reasons).toContain(`circuit relay served at ${at}`)
    // Kept relayed (on loopback the pair would move to a LAN connection at once): both ends say 'relay'.
    const bob = await tn.createNode({
      nodeType: 'active',
      advertise: false,
      relayUpgrade: false,
      circuitRelay: { reserveAt: at! },
    })
    const named = relayOf(UNL.parse(bob.unl.value))
    expect(named && `${named.host}:${named.port}`).toBe(at)
    expect(bob.startReport.reasons).toContain(`circuit relay: reserved at ${at}`)
    const alice = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const arrived = nextConnection(bob)
    const con = await alice.unl.connect(elsewhere(bob.unl.value))
    const theirs = await arrived
    expect(alice.info(con)).toMatchObject({ method: 'relay', nodeId: bob.nodeId })
    expect(alice.info(con)?.reason).toContain(`relay at ${at}`)
    expect(theirs.info).toMatchObject({ method: 'relay', direction: 'inbound', nodeId: alice.nodeId })
    con.sendLine('to bob via the node relay')
    expect(await theirs.con.readLine({ timeout: 10_000 })).toBe('to bob via the node relay')
    theirs.con.sendLine('and back')
    expect(await con.readLine({ timeout: 10_000 })).toBe('and back')
    // stop() closes the relay's port.
    await relayNode.stop()
    expect(await connectError(at!)).toBe('ECONNREFUSED')
  })

  it("circuits count against the serving node's limits: past maxCircuitsPerTarget the relay refuses; net.circuitRelay counts, a freed circuit lets the next in", async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const relayNode = await tn.createNode({
      nodeType: 'passive',
      advertise: false,
      circuitRelay: { serve: true, maxCircuitsPerTarget: 1 },
    })
    const relay = relayNode.circuitRelay!
    expect(relay.stats).toMatchObject({ reservations: 0, pending: 0, open: 0 })
    const at = relayNode.startReport.circuitRelay!
    // Kept relayed (no upgrade to a loopback connection): the circuit stays open until closed here.
    const relayed = { nodeType: 'active', advertise: false, relayUpgrade: false } as const
    const bob = await tn.createNode({ ...relayed, circuitRelay: { reserveAt: at } })
    expect(relay.stats.reservations).toBe(1)
    const alice = await tn.createNode(relayed)
    const carol = await tn.createNode(relayed)
    let arrived = nextConnection(bob)
    const first = await alice.unl.connect(elsewhere(bob.unl.value))
    await arrived
    expect(alice.info(first)?.method).toBe('relay')
    expect(relay.stats).toMatchObject({ open: 1, pending: 0 })
    const err = await carol.unl.connect(elsewhere(bob.unl.value)).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeDefined()
    const attempt = relayAttempt(err)
    expect(attempt?.ok).toBe(false)
    expect(attempt?.error).toMatchObject({ code: 'ERR_RELAY_FULL' })
    expect(attempt?.error?.message).toContain('circuits per target')
    expect(relay.stats.refused).toEqual({ ERR_RELAY_FULL: 1 })
    // Alice hangs up: the relay ends that circuit, and the next one to bob is let in.
    const ended = once(relay, 'end', { signal: AbortSignal.timeout(WAIT_MS) })
    first.close()
    expect((await ended)[0]).toMatchObject({ reason: 'closed' })
    expect(relay.stats).toMatchObject({ open: 0, ended: { closed: 1 } })
    arrived = nextConnection(bob)
    const second = await carol.unl.connect(elsewhere(bob.unl.value))
    expect((await arrived).info).toMatchObject({ method: 'relay', nodeId: carol.nodeId })
    expect(carol.info(second)?.method).toBe('relay')
    expect(relay.stats).toMatchObject({ reservations: 1, open: 1, refused: { ERR_RELAY_FULL: 1 } })
    // A node that serves no relay has none; after stop() the relay is closed, its counts kept.
    expect(bob.circuitRelay).toBeUndefined()
    await relayNode.stop()
    expect(relayNode.circuitRelay).toBe(relay)
    expect(relay.stats.refused).toEqual({ ERR_RELAY_FULL: 1 })
  })

  it('a reservation past maxReservations is refused: the next relay of reserveAt, else none, and why', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const full = await tn.createNode({
      nodeType: 'passive',
      advertise: false,
      circuitRelay: { serve: true, maxReservations: 1 },
    })
    const other = await tn.createNode({
      nodeType: 'passive',
      advertise: false,
      circuitRelay: { serve: true },
    })
    const [first, second] = [full.startReport.circuitRelay!, other.startReport.circuitRelay!]
    const bob = await tn.createNode({
      nodeType: 'active',
      advertise: false,
      circuitRelay: { reserveAt: first },
    })
    expect(relayOf(UNL.parse(bob.unl.value))).toMatchObject({ port: Number(first.split(':')[1]) })
    // The first relay is full now: the node reserves at the next one, and its UNL names that one.
    const dave = await tn.createNode({
      nodeType: 'active',
      advertise: false,
      circuitRelay: { reserveAt: [first, { host: '127.0.0.1', port: Number(second.split(':')[1]) }] },
    })
    expect(relayOf(UNL.parse(dave.unl.value))).toMatchObject({ port: Number(second.split(':')[1]) })
    const why = dave.startReport.reasons.find((r) =>
      r.startsWith(`circuit relay: no reservation at ${first}`),
    )
    expect(why).toMatch(/reservations/)
    expect(dave.startReport.reasons).toContain(`circuit relay: reserved at ${second}`)
    // With no other relay to try, a node goes on without a reservation: its UNL names no relay.
    const erin = await tn.createNode({
      nodeType: 'active',
      advertise: false,
      circuitRelay: { reserveAt: first },
    })
    expect(relayOf(UNL.parse(erin.unl.value))).toBeUndefined()
    expect(
      erin.startReport.reasons.some((r) => r.startsWith(`circuit relay: no reservation at ${first}`)),
    ).toBe(true)
  })

  it('a node that is not passive does not serve, and says why', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const n = await tn.createNode({ nodeType: 'active', advertise: false, circuitRelay: { serve: true } })
    expect(n.startReport.circuitRelay).toBeUndefined()
    expect(n.circuitRelay).toBeUndefined()
    expect(
      n.startReport.reasons.some((r) => r.startsWith('circuit relay not served: node type active')),
    ).toBe(true)
  })

  it('checks the option: relay limits and servePort as the relay does, reserveAt as one address or a list', () => {
    expect(() => new Net({ circuitRelay: { serve: true, maxCircuits: 0 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => new Net({ circuitRelay: { servePort: 70_000 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => new Net({ circuitRelay: { reserveAt: 'host:port' } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION' }),
    )
    expect(() => new Net({ circuitRelay: { reserveAt: ['127.0.0.1:1', 'host:port'] } })).toThrow(
      /circuitRelay\.reserveAt\[1\]/,
    )
    expect(
      new Net({ circuitRelay: { reserveAt: ['127.0.0.1:1', { host: '::1', port: 2 }] } }).options
        .circuitRelay,
    ).toMatchObject({
      use: true,
      serve: false,
      reserveAt: [
        { host: '127.0.0.1', port: 1 },
        { host: '::1', port: 2 },
      ],
    })
    expect(new Net({ circuitRelay: false }).options.circuitRelay).toMatchObject({ use: false, serve: false })
  })
})
