/**
 * Detection and punching over links with latency (netlab's `latencyMs`: what reaches a router waits
 * that long); the lab's own links take microseconds, which hid both bugs these tests guard:
 * - NAT detection's reuse test reconnects from a port whose last connection the server just closed;
 *   that connection stays in LAST_ACK for a round trip, and a connect() from the port fails with
 *   EADDRNOTAVAIL until it is gone: detection failed as `ERR_SERVER_UNREACHABLE` (20 ms links).
 * - A punch attempt was replaced after a fixed 250 ms; over 150 ms links (300 ms between the peers) the
 *   peer's SYN had met it by then, the replaced socket kept the port pair, and every later attempt
 *   failed with EADDRNOTAVAIL: no punch connected. Then a near node (its own RTT short) still cut the
 *   path to a far one (300 ms) short. Attempts now live 1.5 times a bound on the path's round trip.
 */
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ready = await labReadiness()
const NODE = new URL('./fixtures/punch-node.ts', import.meta.url).pathname
const SERVER = new URL('./fixtures/rendezvous-server.ts', import.meta.url).pathname

describe.skipIf(!ready.ok)('over links with latency', () => {
  let lab: Lab
  let rendezvous = ''
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { srv: {} },
      routers: {
        r: { nat: 'cone', inbound: 'rst', latencyMs: 20 },
        far1: { nat: 'cone', inbound: 'drop', latencyMs: 150 },
        far2: { nat: 'cone', inbound: 'drop', latencyMs: 150 },
        near: { nat: 'cone', inbound: 'drop' },
        farthest: { nat: 'cone', inbound: 'drop', latencyMs: 300 },
      },
      hosts: {
        a: { router: 'r' },
        f1: { router: 'far1' },
        f2: { router: 'far2' },
        n: { router: 'near' },
        f3: { router: 'farthest' },
      },
    })
    const server = lab.spawnNode('srv', SERVER, ['--port', '8000'])
    await server.waitForLine(/^listening on /, { timeout: 60_000 })
    rendezvous = `${lab.host('srv').ip}:8000`
  }, 90_000)
  afterAll(async () => {
    await lab?.close()
  })

  it('20 ms: detection sees the cone NAT as preserving, its reconnections included, and registers', async () => {
    const node = lab.spawnNode('a', NODE, [
      '--role',
      'target',
      '--server',
      rendezvous,
      '--node-id',
      '1'.repeat(40),
    ])
    const line = await node.waitForLine(/"event":"(nat|error)"/, { timeout: 60_000 })
    const nat = JSON.parse(line) as {
      event: string
      type?: string
      samples?: { localPort: number; externalPort: number }[]
    }
    expect(nat, line).toMatchObject({ event: 'nat', type: 'preserving' })
    const ports = nat.samples?.map((s) => s.localPort) ?? []
    expect(new Set(ports).size).toBeLessThan(ports.length) // reconnections from a sampled port were made
    await node.waitForLine(/"registered"/, { timeout: 60_000 })
    node.kill('SIGTERM')
  }, 120_000)

  /** One punch from `from` to a target on `to` (ids: target's, candidate's); the candidate's events. */
  async function punchOnce(from: string, to: string, ids: readonly [string, string]) {
    const target = lab.spawnNode(to, NODE, ['--role', 'target', '--server', rendezvous, '--node-id', ids[0]])
    await target.waitForLine(/"registered"/, { timeout: 60_000 })
    const candidate = lab.spawnNode(from, NODE, [
      ...['--role', 'candidate', '--server', rendezvous, '--node-id', ids[1]],
      ...['--targets', ids[0], '--trials', '1'],
    ])
    await candidate.waitForLine(/"done"/, { timeout: 90_000 })
    target.kill('SIGTERM')
    const events = candidate
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string })
    return { events, stdout: candidate.stdout() }
  }

  it('150 ms each way: two nodes behind cone routers punch through', async () => {
    const { events, stdout } = await punchOnce('f1', 'f2', ['2'.repeat(40), '3'.repeat(40)])
    expect(
      events.filter((e) => e.event === 'error'),
      stdout,
    ).toEqual([])
    expect(events.filter((e) => e.event === 'connected')).toHaveLength(1)
  }, 120_000)

  it('a near node and a far one (300 ms), each way: the near side waits for the far path', async () => {
    const runs = [
      ['n', 'f3', ['4'.repeat(40), '5'.repeat(40)]],
      ['f3', 'n', ['6'.repeat(40), '7'.repeat(40)]],
    ] as const
    for (const [from, to, ids] of runs) {
      const { events, stdout } = await punchOnce(from, to, ids)
      expect(
        events.filter((e) => e.event === 'error'),
        `${from} -> ${to}: ${stdout}`,
      ).toEqual([])
      expect(events.filter((e) => e.event === 'connected')).toHaveLength(1)
    }
  }, 180_000)
})
