import { once } from 'node:events'
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../src/index.js'

const BOUND_MS = 15_000

async function refused(address: string): Promise<boolean> {
  const [host, port] = address.split(':') as [string, string]
  const s = connect({ host, port: Number(port) })
  try {
    await once(s, 'connect', { signal: AbortSignal.timeout(BOUND_MS) })
    return false
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  } finally {
    s.destroy()
  }
}

describe('createTestnet', () => {
  it('starts a server and 3 advertised passive nodes on loopback; close() stops everything', async () => {
    const tn = await createTestnet()
    expect(tn.relay).toBeUndefined()
    expect(tn.server.relay).toBeUndefined()
    expect(tn.nodes).toHaveLength(3)
    for (const n of tn.nodes) {
      expect(n.isStarted).toBe(true)
      expect(n.nodeType).toBe('passive')
      expect(n.startReport.reasons[0]).toMatch(/server-dial-back\): reachable: the server connected back/)
      expect(n.unl.unl.wanAddress).toBe('127.0.0.1')
      expect(tn.server.nodes.get(n.nodeId)).toBeDefined()
    }
    expect(tn.server.stats()).toMatchObject({ passiveNodes: 3, connections: 3 })
    expect(tn.serverAddress).toMatch(/^127\.0\.0\.1:\d+$/)
    const closing = tn.close()
    expect(tn.close()).toBe(closing)
    await closing
    expect(tn.nodes.every((n) => n.isStopped)).toBe(true)
    expect(await refused(tn.serverAddress)).toBe(true)
  })

  it('with bootstrap: true every node connects to the others; await using tears it down', async () => {
    let kept: Awaited<ReturnType<typeof createTestnet>> | undefined
    {
      await using tn = await createTestnet({ nodes: 3, node: { bootstrap: true } })
      kept = tn
      for (const n of tn.nodes) expect(n.connections().length).toBeGreaterThan(0)
    }
    expect(kept.nodes.every((n) => n.isStopped)).toBe(true)
  })

  it('relay: true gives every node a connection to the server’s embedded relay (for reverse connect)', async () => {
    await using tn = await createTestnet({ nodes: 2, relay: true })
    expect(tn.relayAddress).toBe(tn.serverAddress)
    expect(tn.relay).toBe(tn.server.relay)
    expect(tn.relay!.sessionCount).toBe(2)
    expect(tn.server.stats().relaySessions).toBe(2)
    // The nodes reach each other through it: a reverse-connect-capable transport on both.
    const [a, b] = tn.nodes as [NonNullable<(typeof tn.nodes)[0]>, NonNullable<(typeof tn.nodes)[0]>]
    expect(a.nodeId).not.toBe(b.nodeId)
    const more = await tn.createNode({ advertise: false, netType: 'direct' })
    expect(more.startReport.nodeType).toBe('passive')
    expect(tn.nodes).toHaveLength(3)
  })

  it('a node that cannot start closes what was started and throws its error', async () => {
    let error: unknown
    try {
      await createTestnet({ nodes: 2, node: { nodeType: 'active', maxOutbound: -1 } })
    } catch (err) {
      error = err
    }
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION' })
    await expect(createTestnet({ nodes: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' })
  })
})
