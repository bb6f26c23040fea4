/**
 * The relay-to-punch upgrade in the NAT lab (issue 14 item 4), through real kernel NATs. Two nodes
 * behind cone routers (simultaneous: they can punch) start relayed, because the dialler has a stale
 * UNL of the target's that names only its relay; over the circuit the target sends its current UNL,
 * they punch through the bootstrap server, and the line streams (numbered lines sent without pause by
 * both ends across the switch) move to the punched connection: none lost, repeated or reordered. Two
 * nodes behind symmetric routers (no punch works between them) try, fail, and stay relayed.
 */

import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Event, netOptions, START_WAIT_MS, startServer, waitEvent } from './fixtures/matrix-lab.js'

const ready = await labReadiness()
const NODE = new URL('./fixtures/upgrade-node.ts', import.meta.url).pathname

interface UpgradeNode {
  proc: LabProcess
  unl: string
  nodeId: string
}

async function startNode(lab: Lab, server: string, host: string): Promise<UpgradeNode> {
  const proc = lab.spawnNode(host, NODE, [JSON.stringify(netOptions(server))])
  const started = await waitEvent(
    proc,
    (e) => e.event === 'started' || e.event === 'error',
    host,
    START_WAIT_MS,
  )
  if (started.event !== 'started') throw new Error(`${host}: ${JSON.stringify(started)}`)
  proc.write(`${JSON.stringify({ cmd: 'advertise' })}\n`)
  await waitEvent(proc, (e) => e.event === 'advertised', `${host}: advertise`)
  const report = started.report as { unl: string; nodeId: string; nodeType: string }
  return { proc, unl: report.unl, nodeId: report.nodeId }
}

/** Both ends' counts once each has sent all its lines: what the other received must match. */
async function settle(a: UpgradeNode, b: UpgradeNode) {
  const sent = async (n: UpgradeNode) =>
    (await waitEvent(n.proc, (e) => e.event === 'sent', 'all lines sent')).count as number
  const [sentA, sentB] = await Promise.all([sent(a), sent(b)])
  const received = (n: UpgradeNode, count: number): Promise<Event> => {
    n.proc.write(`${JSON.stringify({ cmd: 'expect', count })}\n`)
    return waitEvent(n.proc, (e) => e.event === 'received', 'every line of the peer')
  }
  const [byB, byA] = await Promise.all([received(b, sentA), received(a, sentB)])
  return { sentA, sentB, byA, byB }
}

describe.skipIf(!ready.ok)('relayed connections upgrade when they can (NAT lab)', () => {
  let lab: Lab | undefined
  let serverProc: LabProcess | undefined
  const nodes: UpgradeNode[] = []
  let server: string

  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { server: {} },
      routers: {
        r_cone_a: { nat: 'cone', inbound: 'drop' },
        r_cone_b: { nat: 'cone', inbound: 'drop' },
        r_sym_a: { nat: 'symmetric', inbound: 'drop' },
        r_sym_b: { nat: 'symmetric', inbound: 'drop' },
      },
      hosts: {
        cone_a: { router: 'r_cone_a' },
        cone_b: { router: 'r_cone_b' },
        sym_a: { router: 'r_sym_a' },
        sym_b: { router: 'r_sym_b' },
      },
    })
    ;({ server, proc: serverProc } = await startServer(lab))
    for (const host of ['cone_a', 'cone_b', 'sym_a', 'sym_b']) nodes.push(await startNode(lab, server, host))
  }, START_WAIT_MS * 5)

  afterAll(async () => {
    for (const n of nodes) n.proc.kill()
    serverProc?.kill()
    await lab?.close()
  }, 30_000)

  it('two cone NATs: starts relayed, ends punched, every line once and in order', async () => {
    const [alice, bob] = [nodes[0]!, nodes[1]!]
    alice.proc.write(`${JSON.stringify({ cmd: 'connect', unl: bob.unl, stale: true })}\n`)
    const connected = await waitEvent(
      alice.proc,
      (e) => e.event === 'connected' || e.event === 'error',
      'connect',
    )
    expect(connected, JSON.stringify(connected)).toMatchObject({
      event: 'connected',
      info: { method: 'relay' },
    })
    const [upA, upB] = await Promise.all([
      waitEvent(alice.proc, (e) => e.event === 'upgrade', 'alice: upgrade'),
      waitEvent(bob.proc, (e) => e.event === 'upgrade', 'bob: upgrade'),
    ])
    expect(upA).toMatchObject({ info: { method: 'punch', nodeId: bob.nodeId } })
    expect(upB).toMatchObject({ info: { method: 'punch', nodeId: alice.nodeId } })
    const { sentA, sentB, byA, byB } = await settle(alice, bob)
    expect(byB).toMatchObject({ count: sentA, ok: true })
    expect(byA).toMatchObject({ count: sentB, ok: true })
  }, 90_000)

  it('two symmetric NATs: the try fails, the connection stays relayed and carries every line', async () => {
    const [alice, bob] = [nodes[2]!, nodes[3]!]
    alice.proc.write(`${JSON.stringify({ cmd: 'connect', unl: bob.unl })}\n`)
    const connected = await waitEvent(
      alice.proc,
      (e) => e.event === 'connected' || e.event === 'error',
      'connect',
    )
    expect(connected, JSON.stringify(connected)).toMatchObject({
      event: 'connected',
      info: { method: 'relay' },
    })
    const { sentA, sentB, byA, byB } = await settle(alice, bob)
    expect(sentA).toBeGreaterThan(0)
    expect(byB).toMatchObject({ count: sentA, ok: true })
    expect(byA).toMatchObject({ count: sentB, ok: true })
    expect(alice.proc.stdout()).not.toContain('"upgrade"')
    expect(bob.proc.stdout()).not.toContain('"upgrade"')
  }, 90_000)
})
