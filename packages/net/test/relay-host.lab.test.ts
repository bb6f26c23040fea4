/**
 * A node relay in the NAT lab (issue 14: "any passive node can opt in"): the bootstrap server runs
 * without its circuit relay (`--no-circuit-relay`), so the only relay is a node behind a cone router
 * with miniupnpd, passive through a port mapping, serving one with `circuitRelay: { serve: true,
 * maxCircuitsPerTarget: 1 }` on a second port it maps too. A node behind a symmetric router reserves
 * there (`reserveAt`), and a node behind another symmetric router (no punch, no listening works
 * between them) reaches it through that circuit; a second circuit to the same target is refused by the
 * node relay's own limit. At stop the relay's mapping goes with the node's.
 */

import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { relayOf, UNL } from '@pyp2p/unl'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  attempt,
  type MatrixNode,
  START_WAIT_MS,
  startNode,
  stopMatrix,
  WAIT_MS,
} from './fixtures/matrix-lab.js'

const ready = await labReadiness()
const SERVER = new URL('../../bootstrap-server/src/bin.ts', import.meta.url).pathname

describe.skipIf(!ready.ok)('a passive node behind UPnP serving a circuit relay (NAT lab)', () => {
  let lab: Lab | undefined
  let server: string
  let serverProc: LabProcess | undefined
  const nodes: MatrixNode[] = []
  let relayNode: MatrixNode
  let bob: MatrixNode
  let alice: MatrixNode

  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { server: {} },
      routers: {
        r_relay: { nat: 'cone', inbound: 'drop', upnp: 'igd2+natpmp' },
        r_sym_a: { nat: 'symmetric', inbound: 'drop' },
        r_sym_b: { nat: 'symmetric', inbound: 'rst' },
      },
      hosts: { relay: { router: 'r_relay' }, sym_a: { router: 'r_sym_a' }, sym_b: { router: 'r_sym_b' } },
    })
    serverProc = lab.spawnNode('server', SERVER, ['--host', '0.0.0.0', '--port', '0', '--no-circuit-relay'])
    const listening = await serverProc.waitForLine(/listening on /, { timeout: WAIT_MS })
    server = `${lab.host('server').ip}:${/listening on \S+:(\d+)/.exec(listening)?.[1]}`
    relayNode = await startNode(
      lab,
      server,
      { host: 'relay', kind: 'upnp', side: 'a' },
      { net: { circuitRelay: { serve: true, maxCircuitsPerTarget: 1 } } },
    )
    nodes.push(relayNode)
    const at = (relayNode.report as { circuitRelay?: string }).circuitRelay
    bob = await startNode(
      lab,
      server,
      { host: 'sym_a', kind: 'symmetric', side: 'a' },
      { net: { circuitRelay: { reserveAt: at } } },
    )
    nodes.push(bob)
    alice = await startNode(lab, server, { host: 'sym_b', kind: 'symrst', side: 'b' })
    nodes.push(alice)
  }, START_WAIT_MS * 4)

  afterAll(async () => {
    await stopMatrix(undefined, nodes)
    serverProc?.kill()
    await lab?.close()
  }, 30_000)

  it('serves on its WAN address, at a second port mapped on the router', async () => {
    const r = relayNode.report as MatrixNode['report'] & { circuitRelay?: string }
    const why = r.reasons.join('; ')
    expect(r.nodeType, why).toBe('passive')
    const wan = lab!.router('r_relay').wanIp
    expect(r.circuitRelay, why).toMatch(new RegExp(`^${wan.replaceAll('.', '\\.')}:\\d+$`))
    const external = Number(r.circuitRelay!.split(':')[1])
    const mappings = await lab!.upnpMappings('r_relay')
    const relayMapping = mappings.find((m) => m.externalPort === external)
    expect(relayMapping, JSON.stringify(mappings)).toMatchObject({
      protocol: 'TCP',
      internalIp: lab!.host('relay').ip,
    })
    expect(relayMapping!.internalPort).not.toBe(r.port)
  })

  it('a node behind a symmetric NAT reserves there, and one behind another reaches it by relay', async () => {
    const at = (relayNode.report as { circuitRelay?: string }).circuitRelay!
    const named = relayOf(UNL.parse(bob.unl))
    expect(named && `${named.host}:${named.port}`, bob.report.reasons.join('; ')).toBe(at)
    const o = await attempt(alice, bob)
    if (!o.ok) throw new Error(`alice -> bob failed: ${o.code} ${o.message}`)
    expect(o.method).toBe('relay')
    expect(o.reason).toContain(`relay at ${at}`)
    expect(o.firstLine).toBe(`hello ${bob.nodeId}`)
    expect(o.target).toEqual({ direction: 'inbound', method: 'relay' })
    // The first circuit stays open: a second one to the same target is past the node relay's limit.
    const second = await attempt(alice, bob)
    expect(second.ok).toBe(false)
    const relay = second.ok ? undefined : second.attempts.find((a) => a.method === 'relay')
    expect(relay, JSON.stringify(second)).toMatchObject({ ok: false, code: 'ERR_RELAY_FULL' })
    expect(String(relay?.message)).toContain('circuits per target')
  })

  it("stop removes the relay port's mapping with the node's", async () => {
    await stopMatrix(undefined, [relayNode])
    nodes.splice(nodes.indexOf(relayNode), 1)
    expect(await lab!.upnpMappings('r_relay')).toEqual([])
  })
})
