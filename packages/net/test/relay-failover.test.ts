/**
 * A Net's relay reservation moves when its relay is gone, on loopback: with two real BootstrapServers
 * (each hosts a circuit relay), a NATed node reserved at server A moves its reservation to server B
 * once its session fails over there (event `relay:moved`; `net.unl` then names B's relay), a node of
 * B reaches it through a circuit there, and its own circuits to a node whose UNL names no relay go
 * through B's relay too; with two node relays in `reserveAt`, a node whose first relay stops moves to
 * the second. Waited for by events, never by sleeping.
 */
import { once } from 'node:events'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { relayOf, UNL, withRelay } from '@pyp2p/unl'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net, type RelayMovedInfo } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const loopback = { passiveBind: '127.0.0.1', passivePort: 0, enableForwarding: false } as const
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function startServer() {
  const server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
  const { port } = await server.listen()
  cleanups.push(() => server.close())
  return { server, where: `127.0.0.1:${port}` }
}

/** A NATed node: not dialled directly by anyone, reached only through its relay (no upgrade). */
async function natted(servers: string[], reserveAt?: string[]): Promise<Net> {
  const net = new Net({
    ...loopback,
    servers,
    netType: 'direct',
    nodeType: 'active',
    relayUpgrade: false,
    ...(reserveAt !== undefined && { circuitRelay: { reserveAt } }),
  })
  cleanups.push(() => net.stop())
  await net.start({ signal: AbortSignal.timeout(WAIT_MS) })
  return net
}

/** Its UNL as a node elsewhere would see it: behind another NAT, not listening. */
function elsewhere(text: string): UNL {
  const f = UNL.parse(text).toFields()
  return new UNL({ ...f, wanAddress: '11.0.0.99', lanAddress: '', port: 0 })
}

const relayIn = (text: string): string | undefined => {
  const r = relayOf(UNL.parse(text))
  return r && `${r.host}:${r.port}`
}

describe('a relay reservation moves when its relay is gone', () => {
  it("a NATed node's reservation moves to the server the session fails over to; circuits go there both ways", async () => {
    const a = await startServer()
    const b = await startServer()
    const bob = await natted([a.where, b.where])
    expect(bob.startReport.reasons).toContain(`circuit relay: reserved at ${a.where}`)
    expect(relayIn(bob.unl.value)).toBe(a.where)
    const carol = await natted([b.where])
    expect(relayIn(carol.unl.value)).toBe(b.where)

    const moved = once(bob, 'relay:moved', { signal: AbortSignal.timeout(WAIT_MS) })
    const failover = once(bob, 'server:failover', { signal: AbortSignal.timeout(WAIT_MS) })
    await a.server.close()
    expect((await failover)[0]).toMatchObject({ from: a.where, to: b.where })
    const [info] = (await moved) as [RelayMovedInfo]
    expect(info).toEqual({ from: a.where, to: b.where, unl: bob.unl.value })
    expect(relayIn(bob.unl.value)).toBe(b.where)

    // Carol reaches Bob through the relay his UNL names now.
    const atBob = nextConnection(bob)
    const con = await carol.unl.connect(elsewhere(bob.unl.value))
    expect(carol.info(con)).toMatchObject({ method: 'relay', nodeId: bob.nodeId })
    expect(carol.info(con)?.reason).toContain(`relay at ${b.where}`)
    const theirs = await atBob
    con.sendLine('to bob through B')
    expect(await theirs.con.readLine({ timeout: WAIT_MS })).toBe('to bob through B')

    // Bob reaches Carol by a UNL that names no relay: through his session's server's relay, B's now.
    const atCarol = nextConnection(carol)
    const back = await bob.unl.connect(withRelay(elsewhere(carol.unl.value), undefined))
    expect(bob.info(back)).toMatchObject({ method: 'relay', nodeId: carol.nodeId })
    expect(bob.info(back)?.reason).toContain(`relay at ${b.where}`)
    back.sendLine('to carol through B')
    expect(await (await atCarol).con.readLine({ timeout: WAIT_MS })).toBe('to carol through B')
  })

  it('a reservation whose relay of reserveAt stays gone moves to the next one', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const relayNode = () =>
      tn.createNode({ nodeType: 'passive', advertise: false, circuitRelay: { serve: true } })
    const [r1, r2] = await Promise.all([relayNode(), relayNode()])
    const [at1, at2] = [r1.startReport.circuitRelay!, r2.startReport.circuitRelay!]
    const bob = await natted([tn.serverAddress], [at1, at2])
    expect(relayIn(bob.unl.value)).toBe(at1)

    const moved = once(bob, 'relay:moved', { signal: AbortSignal.timeout(WAIT_MS) })
    await r1.stop()
    const [info] = (await moved) as [RelayMovedInfo]
    expect(info).toEqual({ from: at1, to: at2, unl: bob.unl.value })
    expect(relayIn(bob.unl.value)).toBe(at2)

    const alice = await natted([tn.serverAddress])
    const atBob = nextConnection(bob)
    const con = await alice.unl.connect(elsewhere(bob.unl.value))
    expect(alice.info(con)?.reason).toContain(`relay at ${at2}`)
    con.sendLine('to bob through the second relay')
    expect(await (await atBob).con.readLine({ timeout: WAIT_MS })).toBe('to bob through the second relay')
  })

  it('moved once, then that relay gone too with no other granting: the reservation stays and heals there', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const relayNode = (servePort = 0) =>
      tn.createNode({ nodeType: 'passive', advertise: false, circuitRelay: { serve: true, servePort } })
    const [r1, r2] = await Promise.all([relayNode(), relayNode()])
    const [at1, at2] = [r1.startReport.circuitRelay!, r2.startReport.circuitRelay!]
    const bob = await natted([tn.serverAddress], [at1, at2])
    const moved = once(bob, 'relay:moved', { signal: AbortSignal.timeout(WAIT_MS) })
    await r1.stop()
    expect((await moved)[0]).toMatchObject({ from: at1, to: at2 })
    const movedAgain: unknown[] = []
    bob.on('relay:moved', (info) => movedAgain.push(info))
    await r2.stop()
    // The second relay comes back on its port: Bob's reservation there heals, his UNL is unchanged.
    await relayNode(Number(at2.split(':')[1]))
    const alice = await natted([tn.serverAddress])
    await vi.waitFor(
      async () => {
        const con = await alice.unl.connect(elsewhere(bob.unl.value), { timeout: WAIT_MS })
        con.close()
      },
      { timeout: WAIT_MS, interval: 50 },
    )
    expect(relayIn(bob.unl.value)).toBe(at2)
    expect(movedAgain).toEqual([])
  })

  it("start()'s signal bounds the start, not the reservation it made", async () => {
    const a = await startServer()
    const started = new AbortController()
    const bob = new Net({
      ...loopback,
      servers: [a.where],
      netType: 'direct',
      nodeType: 'active',
      relayUpgrade: false,
    })
    cleanups.push(() => bob.stop())
    await bob.start({ signal: started.signal })
    started.abort()
    const carol = await natted([a.where])
    const atBob = nextConnection(bob)
    const con = await carol.unl.connect(elsewhere(bob.unl.value))
    con.sendLine('after the start signal fired')
    expect(await (await atBob).con.readLine({ timeout: WAIT_MS })).toBe('after the start signal fired')
  })
})
