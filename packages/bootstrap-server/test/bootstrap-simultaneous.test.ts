/**
 * `BOOTSTRAP` lists simultaneous nodes (`s:` entries) as well as passive ones, so nodes behind
 * predictable NATs find each other to punch (issue 18); `bootstrapSimultaneous: false` (CLI
 * `--no-bootstrap-simultaneous`) lists passive nodes only, as the original's server did.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { parseCliArgs } from '../src/cli.js'
import type { BootstrapServer } from '../src/index.js'
import { nodeId, startServer, TestClient, until } from './helpers.js'

let server: BootstrapServer | undefined
const clients: TestClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await server?.close()
})

async function registered(bootstrapSimultaneous?: boolean): Promise<TestClient> {
  const started = await startServer(bootstrapSimultaneous === undefined ? {} : { bootstrapSimultaneous })
  server = started.server
  const connect = async (): Promise<TestClient> => {
    const c = await TestClient.connect(started.port)
    clients.push(c)
    return c
  }
  expect((await (await connect()).request(`PASSIVE READY 4001 1 ${nodeId(1)}`)).type).toBe('OK')
  const sim = await connect()
  expect((await sim.request(`SIMULTANEOUS READY 4002 1 ${nodeId(2)}`)).type).toBe('OK')
  // The simultaneous node does not get itself back.
  expect(await sim.request('BOOTSTRAP 10')).toEqual({
    type: 'NODES',
    nodes:
      bootstrapSimultaneous === false
        ? [expect.anything()]
        : [expect.objectContaining({ nodeId: nodeId(1) })],
  })
  return connect()
}

describe('BOOTSTRAP and simultaneous nodes', () => {
  it('lists passive and simultaneous nodes by default', async () => {
    const asker = await registered()
    const reply = await asker.request('BOOTSTRAP 10')
    expect(reply.type === 'NODES' && [...reply.nodes].sort((a, b) => a.port - b.port)).toEqual([
      { nodeType: 'passive', nodeId: nodeId(1), ip: '127.0.0.1', port: 4001 },
      { nodeType: 'simultaneous', nodeId: nodeId(2), ip: '127.0.0.1', port: 4002 },
    ])
    const one = await asker.request('BOOTSTRAP 1')
    expect(one.type === 'NODES' && one.nodes.length).toBe(1)
    expect(server!.stats()).toMatchObject({ passiveNodes: 1, simultaneousNodes: 1 })
  })

  it('lists passive nodes only with bootstrapSimultaneous: false', async () => {
    const asker = await registered(false)
    expect(await asker.request('BOOTSTRAP 10')).toEqual({
      type: 'NODES',
      nodes: [{ nodeType: 'passive', nodeId: nodeId(1), ip: '127.0.0.1', port: 4001 }],
    })
  })

  it('a simultaneous node leaves the list when its connection closes', async () => {
    const asker = await registered()
    const sim = clients[1]!
    sim.close()
    await sim.closed()
    await until(() => server!.stats().simultaneousNodes === 0, 'the registration to end')
    const reply = await asker.request('BOOTSTRAP 10')
    expect(reply.type === 'NODES' && reply.nodes.map((n) => n.nodeType)).toEqual(['passive'])
  })

  it('the CLI flag --no-bootstrap-simultaneous turns it off', () => {
    expect(parseCliArgs(['--no-bootstrap-simultaneous']).options.bootstrapSimultaneous).toBe(false)
    expect(parseCliArgs([]).options.bootstrapSimultaneous).toBeUndefined()
  })
})
