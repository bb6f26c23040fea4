/**
 * The node-type decision with its inputs given directly: port forwarding and NAT detection need a
 * router and a NAT (the NAT lab covers them end to end); here each branch of the decision is checked.
 */
import { networkInterfaces } from 'node:os'
import { describe, expect, it, vi } from 'vitest'
import { ObservedAddressProbe, type ReachabilityProbe, type ReachabilityVerdict } from '../src/index.js'
import { determineNodeType, type NodeTypeInput } from '../src/node-type.js'
import { natEvidence } from '../src/start-node-type.js'

const signal = new AbortController().signal
const probe = new ObservedAddressProbe()
const listen = { address: '0.0.0.0', port: 5000 }
// An address that is not this host's: the first documentation range (RFC 5737), never dialled here.
const natted = { ip: '192.0.2.7', port: 61000 }

function input(over: Partial<NodeTypeInput>): NodeTypeInput {
  return {
    netType: 'p2p',
    nodeType: undefined,
    natType: undefined,
    listen,
    observed: natted,
    probe,
    forward: undefined,
    forwardSkipped: 'disabled (enableForwarding: false)',
    unforward: async () => {},
    detectNat: undefined,
    signal,
    ...over,
  }
}

describe('ObservedAddressProbe', () => {
  const local = Object.values(networkInterfaces())
    .flat()
    .find((a) => a?.family === 'IPv4')!.address

  it('reachable when the server saw one of our addresses and we listen there', async () => {
    const q = { host: local, port: 5000, listen, observed: { ip: local, port: 5000 }, mapped: false, signal }
    expect((await probe.check(q)).reachable).toBe('reachable')
    expect((await probe.check({ ...q, observed: { ip: `::ffff:${local}`, port: 1 } })).reachable).toBe(
      'reachable',
    )
  })
  it('unreachable behind a NAT, or when we listen on another address only', async () => {
    expect(
      (await probe.check({ host: natted.ip, port: 5000, listen, observed: natted, mapped: false, signal }))
        .reachable,
    ).toBe('unreachable')
    const q = {
      host: '127.0.0.1',
      port: 5000,
      listen: { address: '127.0.0.2', port: 5000 },
      mapped: false,
      signal,
    }
    expect((await probe.check({ ...q, observed: { ip: '127.0.0.1', port: 1 } })).reachable).toBe(
      'unreachable',
    )
  })
  it('unknown without a server, or for a mapped port it cannot test', async () => {
    expect(
      (await probe.check({ host: '', port: 5000, listen, observed: undefined, mapped: false, signal }))
        .reachable,
    ).toBe('unknown')
    const q = { host: natted.ip, port: 5000, listen, observed: natted, mapped: true, signal }
    expect((await probe.check(q)).reachable).toBe('unknown') // even with the same port as the listener
  })
})

describe('determineNodeType', () => {
  it('passive when reachable as it is', async () => {
    const r = await determineNodeType(input({ observed: { ip: '127.0.0.1', port: 1 } }))
    expect(r).toMatchObject({
      nodeType: 'passive',
      forwarding: 'none',
      reachability: 'reachable',
      wanAddress: '127.0.0.1',
    })
  })

  it('passive through a mapping the probe cannot refute; the mapping port goes in externalPort', async () => {
    const r = await determineNodeType(
      input({
        forward: async () => ({ method: 'natpmp', externalAddress: '198.51.100.9', externalPort: 7000 }),
      }),
    )
    expect(r).toMatchObject({
      nodeType: 'passive',
      forwarding: 'natpmp',
      wanAddress: '198.51.100.9',
      externalPort: 7000,
    })
    expect(r.reasons.join('\n')).toMatch(/natpmp mapped 198\.51\.100\.9:7000/)
  })

  it('a mapping the probe refutes is removed, and the node goes on to active', async () => {
    const refuting: ReachabilityProbe = {
      name: 'test',
      check: async () => ({ reachable: 'unreachable', reason: 'no' }),
    }
    let removed = 0
    const r = await determineNodeType(
      input({
        probe: refuting,
        forward: async () => ({ method: 'upnp', externalAddress: null, externalPort: 5000 }),
        unforward: async () => {
          removed++
        },
      }),
    )
    expect(removed).toBe(1)
    expect(r).toMatchObject({ nodeType: 'active', forwarding: 'none' })
  })

  it('a failed mapping is reported and the decision goes on', async () => {
    const r = await determineNodeType(
      input({
        forward: async () => {
          throw new Error('no gateway answered')
        },
      }),
    )
    expect(r.nodeType).toBe('active')
    expect(r.reasons.join('\n')).toMatch(/port forwarding failed: no gateway answered/)
  })

  it('direct nets: simultaneous behind a predictable NAT, active behind a random one', async () => {
    const sim = await determineNodeType(
      input({ netType: 'direct', detectNat: async () => ({ type: 'preserving' }) }),
    )
    expect(sim).toMatchObject({ nodeType: 'simultaneous', natType: 'preserving' })
    const act = await determineNodeType(
      input({ netType: 'direct', detectNat: async () => ({ type: 'random' }) }),
    )
    expect(act).toMatchObject({ nodeType: 'active', natType: 'random' })
  })

  it("the NAT type's reason shows the ports it came from", async () => {
    const nat = {
      type: 'random' as const,
      samples: [{ localPort: 40001, externalPort: 1025 }],
      inbound: 'drop' as const,
    }
    const r = await determineNodeType(
      input({ detectNat: async () => ({ type: nat.type, evidence: natEvidence(nat) }) }),
    )
    expect(r.reasons).toContain(
      'NAT type random: detected through the bootstrap server (local→external ports 40001→1025; inbound drop)',
    )
  })

  it('p2p nets (issue 18): simultaneous behind a predictable NAT too, and the reason says they punch', async () => {
    const sim = await determineNodeType(input({ detectNat: async () => ({ type: 'preserving' }) }))
    expect(sim).toMatchObject({ nodeType: 'simultaneous', natType: 'preserving' })
    expect(sim.reasons.join('\n')).toMatch(/bootstrap\(\) punches to listed simultaneous nodes/)
    const given = await determineNodeType(input({ nodeType: 'simultaneous' }))
    expect(given.nodeType).toBe('simultaneous')
    const act = await determineNodeType(input({ detectNat: async () => ({ type: 'random' }) }))
    expect(act).toMatchObject({ nodeType: 'active', natType: 'random' })
  })
})

/** A promise and its resolve (Node 20 has no Promise.withResolvers). */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve: (v: T) => void = () => {}
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

describe('determineNodeType: the gateway search and the NAT test run beside the reachability probe', () => {
  /** A probe whose first answer the test gives (`answer`), and whose later ones are `unreachable`. */
  function heldProbe(): ReachabilityProbe & { answer: (v: ReachabilityVerdict) => void; asked: number } {
    let answer: (v: ReachabilityVerdict) => void = () => {}
    const first = new Promise<ReachabilityVerdict>((resolve) => {
      answer = resolve
    })
    const p = {
      name: 'held',
      asked: 0,
      answer: (v: ReachabilityVerdict) => answer(v),
      check: async () => (++p.asked === 1 ? first : { reachable: 'unreachable' as const, reason: 'no' }),
    }
    return p
  }
  const unreachable: ReachabilityVerdict = { reachable: 'unreachable', reason: 'no answer within 3000 ms' }

  it('both start before the probe answers; forward() waits for the search it started', async () => {
    const probe = heldProbe()
    const order: string[] = []
    let searched: () => void = () => {}
    const search = new Promise<void>((resolve) => {
      searched = resolve
    })
    const natStarted = deferred<void>()
    const run = determineNodeType(
      input({
        probe,
        forwardSkipped: undefined,
        prepareForward: async () => {
          order.push('search')
          await search
          order.push('search done')
        },
        forward: async () => {
          order.push('map')
          throw new Error('no gateway answered')
        },
        detectNat: async () => {
          order.push('nat')
          natStarted.resolve()
          return { type: 'preserving' }
        },
      }),
    )
    await natStarted.promise
    expect(order).toEqual(['search', 'nat']) // the probe has not answered yet
    probe.answer(unreachable)
    await vi.waitFor(() => expect(probe.asked).toBe(1))
    expect(order).not.toContain('map') // still searching
    searched()
    const r = await run
    expect(order).toEqual(['search', 'nat', 'search done', 'map'])
    expect(r).toMatchObject({ nodeType: 'simultaneous', natType: 'preserving', reachability: 'unreachable' })
    expect(r.reasons.map((x) => x.split(':')[0])).toEqual([
      'reachability (held)',
      'port forwarding failed',
      'NAT type preserving',
      'node type simultaneous',
    ])
  })

  it('a node found reachable ends the NAT test and releases the search, and reports no NAT type', async () => {
    const probe = heldProbe()
    const natSignal = deferred<AbortSignal>()
    let released = 0
    const run = determineNodeType(
      input({
        probe,
        forwardSkipped: undefined,
        prepareForward: async () => {},
        forward: async () => ({ method: 'upnp', externalAddress: null, externalPort: 5000 }),
        unforward: async () => {
          released++
        },
        detectNat: (s) => {
          natSignal.resolve(s)
          return new Promise((_, reject) => s.addEventListener('abort', () => reject(s.reason)))
        },
      }),
    )
    const s = await natSignal.promise
    expect(s.aborted).toBe(false)
    probe.answer({ reachable: 'reachable', reason: 'the server connected back' })
    const r = await run
    expect(s.aborted).toBe(true)
    expect(released).toBe(1)
    expect(r).toMatchObject({ nodeType: 'passive', natType: 'unknown', forwarding: 'none' })
    expect(r.reasons.join('\n')).not.toMatch(/NAT/)
  })

  it('not behind a NAT (the server saw one of our addresses): nothing starts before the probe answers', async () => {
    const local = Object.values(networkInterfaces())
      .flat()
      .find((a) => a?.family === 'IPv4')!.address
    const probe = heldProbe()
    const started: string[] = []
    const run = determineNodeType(
      input({
        probe,
        observed: { ip: local, port: 5000 },
        forwardSkipped: undefined,
        prepareForward: async () => {
          started.push('search')
        },
        forward: async () => ({ method: 'upnp', externalAddress: null, externalPort: 5000 }),
        detectNat: async () => {
          started.push('nat')
          return { type: 'preserving' }
        },
      }),
    )
    await vi.waitFor(() => expect(probe.asked).toBe(1))
    expect(started).toEqual([])
    probe.answer({ reachable: 'reachable', reason: 'the server connected back' })
    expect(await run).toMatchObject({ nodeType: 'passive', natType: 'unknown' })
    expect(started).toEqual([])
  })

  it('a NAT test that fails before the probe answers is reported in its place', async () => {
    const probe = heldProbe()
    const failed = deferred<void>()
    const run = determineNodeType(
      input({
        probe,
        detectNat: async () => {
          failed.resolve()
          throw new Error('the server refused')
        },
      }),
    )
    await failed.promise
    probe.answer(unreachable)
    const r = await run
    expect(r).toMatchObject({ nodeType: 'active', natType: 'unknown' })
    expect(r.reasons).toContain('NAT detection failed: the server refused')
  })
})
