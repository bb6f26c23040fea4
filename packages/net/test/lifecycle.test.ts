import { once } from 'node:events'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { Net, NetError, stopOnSignals } from '../src/index.js'
import { nextConnection, WAIT_MS } from './helpers.js'

const loopback = { passiveBind: '127.0.0.1', passivePort: 0, enableForwarding: false } as const

async function refused(port: number): Promise<boolean> {
  const s = connect({ host: '127.0.0.1', port })
  try {
    await once(s, 'connect', { signal: AbortSignal.timeout(WAIT_MS) })
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  } finally {
    s.destroy()
  }
}

describe('start()', () => {
  it('finds a loopback node passive, says why, and builds its UNL', async () => {
    await using tn = await createTestnet({ nodes: 1 })
    const net = tn.nodes[0]!
    const r = net.startReport
    expect(r.nodeType).toBe('passive')
    expect(r.reachability).toBe('reachable')
    expect(r.forwarding).toBe('none')
    expect(r.reasons.join(' ')).toMatch(
      /server-dial-back\): reachable: the server connected back to 127\.0\.0\.1:\d+ and our listener got its nonce/,
    )
    expect(r.server).toBe(tn.serverAddress)
    expect(net.unl.value).toBe(r.unl)
    expect(net.unl.unl.port).toBe(net.port)
    expect(net.unl.unl.wanAddress).toBe('127.0.0.1')
    expect(net.unl.unl.nodeId).toBe(net.nodeId)
  })

  it('honours a given node type, simultaneous in a p2p net too (issue 18)', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const active = await tn.createNode({ nodeType: 'active', advertise: false })
    expect(active.startReport.nodeType).toBe('active')
    expect(active.startReport.reasons[0]).toMatch(/given by the nodeType option/)
    expect(await active.advertise()).toBe(false)
    const sim = await tn.createNode({ nodeType: 'simultaneous', advertise: false })
    expect(sim.startReport.nodeType).toBe('simultaneous')
    expect(sim.startReport.reasons[0]).toMatch(/given by the nodeType option/)
  })

  it('fails with ERR_NO_SERVER when no bootstrap server answers, and releases its port', async () => {
    const server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await server.listen()
    await server.close() // a port nobody listens on any more
    const net = new Net({ ...loopback, servers: [`127.0.0.1:${port}`] })
    await expect(net.start()).rejects.toMatchObject({ code: 'ERR_NO_SERVER' })
    expect(net.isStopped).toBe(true)
    await expect(new Net(loopback).start()).rejects.toMatchObject({ code: 'ERR_NO_SERVER' })
  })

  it('a direct net starts without a server (assumed reachable on the LAN)', async () => {
    await using net = new Net({ ...loopback, netType: 'direct' })
    const r = await net.start()
    expect(r.nodeType).toBe('passive')
    expect(r.server).toBeUndefined()
    await expect(net.bootstrap()).rejects.toMatchObject({ code: 'ERR_NO_SERVER' })
  })

  it('honours an aborted signal and rejects bad options', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const net = new Net({ ...loopback, servers: [tn.serverAddress] })
    await expect(net.start({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    expect(net.isStopped).toBe(true)
    expect(() => new Net({ netType: 'mesh' as 'p2p' })).toThrow(NetError)
    expect(() => new Net({ passiveBind: 'localhost' })).toThrow(/passiveBind/)
    expect(() => new Net({ maxInbound: -1 })).toThrow(/maxInbound/)
    expect(() => new Net({ servers: ['127.0.0.1:99999'] })).toThrow(/servers\[0\]\.port/)
    expect(() => new Net({ nodeId: 'xyz' })).toThrow(/nodeId/)
  })

  it('interface names the LAN address; an unknown interface is refused', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const lo = Object.entries(networkInterfaces()).find(([, list]) =>
      list?.some((a) => a.address === '127.0.0.1'),
    )![0]
    const net = await tn.createNode({ interface: lo, passiveBind: '0.0.0.0', advertise: false })
    expect(net.startReport.lanAddress).toBe('127.0.0.1')
    await expect(tn.createNode({ interface: 'no-such-if0' })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
    })
  })

  it('needs start() first and refuses a second one', async () => {
    await using tn = await createTestnet({ nodes: 1 })
    const net = new Net({ ...loopback, servers: [tn.serverAddress] })
    expect(() => net.unl).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }))
    await expect(net.bootstrap()).rejects.toMatchObject({ code: 'ERR_NOT_STARTED' })
    await expect(tn.nodes[0]!.start()).rejects.toMatchObject({ code: 'ERR_ALREADY_STARTED' })
  })
})

describe('stop()', () => {
  it('closes listener, connections and the server session; the server forgets the node', async () => {
    await using tn = await createTestnet({ nodes: 2 })
    const [alice, bob] = tn.nodes as [Net, Net]
    const incoming = nextConnection(alice)
    await bob.bootstrap()
    const { con } = await incoming
    expect(tn.server.nodes.get(alice.nodeId)).toBeDefined()
    expect(tn.server.stats().connections).toBe(2)
    const port = alice.port
    const closed = once(alice, 'close')
    const bobLost = once(bob, 'disconnect', { signal: AbortSignal.timeout(WAIT_MS) })
    const first = alice.stop()
    expect(alice.stop()).toBe(first) // idempotent: the same promise
    await first
    await closed
    await bobLost
    expect(con.isOpen).toBe(false)
    expect(alice.connections()).toEqual([])
    expect(tn.server.nodes.get(alice.nodeId)).toBeUndefined()
    expect(tn.server.stats()).toMatchObject({ connections: 1, passiveNodes: 1 })
    expect(await refused(port)).toBe(true)
    await expect(alice.start()).rejects.toMatchObject({ code: 'ERR_STOPPED' })
    await expect(alice.bootstrap()).rejects.toMatchObject({ code: 'ERR_STOPPED' })
  })

  it('leaves the server cleanly even when the session connection had dropped', async () => {
    await using tn = await createTestnet({ nodes: 1, server: { idleTimeoutMs: 300, sweepIntervalMs: 10 } })
    const net = tn.nodes[0]!
    // The server's idle sweep closes our (quiet) session; the passive registration outlives it.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the session was never dropped')), WAIT_MS)
      const poll = setInterval(() => {
        if (tn.server.stats().connections > 0) return
        clearInterval(poll)
        clearTimeout(timer)
        resolve()
      }, 5)
    })
    expect(tn.server.nodes.get(net.nodeId)).toBeDefined()
    await net.stop()
    expect(tn.server.nodes.get(net.nodeId)).toBeUndefined()
  })

  it('stopOnSignals() is opt-in and stops the net on the signal', async () => {
    await using tn = await createTestnet({ nodes: 1 })
    const net = tn.nodes[0]!
    expect(process.listenerCount('SIGUSR2')).toBe(0)
    const off = stopOnSignals(net, { signals: ['SIGUSR2'], exitCode: false })
    const closed = once(net, 'close', { signal: AbortSignal.timeout(WAIT_MS) })
    process.kill(process.pid, 'SIGUSR2')
    await closed
    expect(net.isStopped).toBe(true)
    off()
    expect(process.listenerCount('SIGUSR2')).toBe(0)
  })
})
