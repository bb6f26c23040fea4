/**
 * Detection and punching over links with latency (netlab's `latencyMs`: what reaches a router waits
 * that long); the lab's own links take microseconds, which hid both bugs these tests guard:
 * - NAT detection's reuse test reconnects from a port whose last connection the server just closed;
 *   that connection stays in LAST_ACK for a round trip, and a connect() from the port fails with
 *   EADDRNOTAVAIL until it is gone: detection failed as `ERR_SERVER_UNREACHABLE` (20 ms links).
 * - A punch attempt was replaced after a fixed 250 ms; over 150 ms links (300 ms between the peers) the
 *   peer's SYN had met it by then, the replaced socket kept the port pair, and every later attempt
 *   failed with EADDRNOTAVAIL: no punch connected. Attempts now live a few server RTTs.
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
      },
      hosts: { a: { router: 'r' }, f1: { router: 'far1' }, f2: { router: 'far2' } },
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

  it('150 ms each way: two nodes behind cone routers punch through', async () => {
    const target = lab.spawnNode('f2', NODE, [
      '--role',
      'target',
      '--server',
      rendezvous,
      '--node-id',
      '2'.repeat(40),
    ])
    await target.waitForLine(/"registered"/, { timeout: 60_000 })
    const candidate = lab.spawnNode('f1', NODE, [
      ...['--role', 'candidate', '--server', rendezvous, '--node-id', '3'.repeat(40)],
      ...['--targets', '2'.repeat(40), '--trials', '1'],
    ])
    await candidate.waitForLine(/"done"/, { timeout: 90_000 })
    const out = candidate
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { event: string })
    expect(
      out.filter((e) => e.event === 'error'),
      candidate.stdout(),
    ).toEqual([])
    expect(out.filter((e) => e.event === 'connected')).toHaveLength(1)
    target.kill('SIGTERM')
  }, 120_000)
})
