/**
 * NAT detection over a link with latency (netlab's `latencyMs`: what reaches the router waits 20 ms).
 * Its reuse test reconnects from a port whose last connection the server just closed; that connection
 * stays in LAST_ACK for a round trip, and a connect() from the port fails with EADDRNOTAVAIL until it
 * is gone. Without latency the round trip takes microseconds and nothing shows; with it, detection
 * failed as `ERR_SERVER_UNREACHABLE` before detect-nat.ts retried the reconnection.
 */
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ready = await labReadiness()
const NODE = new URL('./fixtures/punch-node.ts', import.meta.url).pathname
const SERVER = new URL('./fixtures/rendezvous-server.ts', import.meta.url).pathname

describe.skipIf(!ready.ok)('NAT detection behind a router with 20 ms of latency', () => {
  let lab: Lab
  let rendezvous = ''
  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { srv: {} },
      routers: { r: { nat: 'cone', inbound: 'rst', latencyMs: 20 } },
      hosts: { a: { router: 'r' } },
    })
    const server = lab.spawnNode('srv', SERVER, ['--port', '8000'])
    await server.waitForLine(/^listening on /, { timeout: 60_000 })
    rendezvous = `${lab.host('srv').ip}:8000`
  }, 90_000)
  afterAll(async () => {
    await lab?.close()
  })

  it('sees the cone NAT as preserving, its reconnections included, and registers', async () => {
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
})
