/**
 * Issue 19 on loopback: a node keeps its place on the bootstrap server by itself. A real
 * BootstrapServer is restarted on the same port and the node is listed again (waited for by its
 * `server:restored` event and a BOOTSTRAP from another client, never by sleeping); a node that was
 * SIGKILLed is forgotten once the server's node lifetime has passed (the server on a manual clock).
 * The back-off bounds themselves are asserted on a fake clock in @pyp2p/punch's session tests.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import { RendezvousSession } from '@pyp2p/punch'
import { afterEach, describe, expect, it } from 'vitest'
import { Net } from '../src/index.js'
import { WAIT_MS } from './helpers.js'

const loopback = { passiveBind: '127.0.0.1', passivePort: 0, enableForwarding: false } as const
const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function startServer(port = 0, extra: ConstructorParameters<typeof BootstrapServer>[0] = {}) {
  const server = new BootstrapServer({ ...extra, host: '127.0.0.1', port })
  const info = await server.listen()
  cleanups.push(() => server.close())
  return { server, port: info.port }
}

/** Node ids a separate client finds with `BOOTSTRAP`. */
async function listed(port: number): Promise<string[]> {
  const me = NodeIdentity.generate()
  const s = new RendezvousSession({ servers: [{ host: '127.0.0.1', port }], nodeId: me.nodeId, identity: me })
  try {
    return (await s.bootstrap(100, { signal: AbortSignal.timeout(WAIT_MS) })).map((n) => n.nodeId)
  } finally {
    s.close()
  }
}

describe('healing (issue 19)', () => {
  it('a passive node is listed again after its bootstrap server restarts on the same port', async () => {
    const first = await startServer()
    const net = new Net({ ...loopback, servers: [`127.0.0.1:${first.port}`] })
    cleanups.push(() => net.stop())
    await net.start({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(await net.advertise()).toBe(true)
    expect(net.startReport.reasons.join('\n')).toMatch(/reconnects and advertises again by itself/)
    expect(await listed(first.port)).toContain(net.nodeId)

    const lost = once(net, 'server:lost', { signal: AbortSignal.timeout(WAIT_MS) })
    await first.server.close()
    expect((await lost)[0]).toMatchObject({ server: `127.0.0.1:${first.port}` })

    const restored = once(net, 'server:restored', { signal: AbortSignal.timeout(WAIT_MS) })
    const back = performance.now()
    const second = await startServer(first.port)
    const [info] = await restored
    const healMs = performance.now() - back
    expect(info).toMatchObject({ server: `127.0.0.1:${first.port}`, previous: `127.0.0.1:${first.port}` })
    // registered again before `server:restored`: a new client finds it at once
    expect(second.server.nodes.get(net.nodeId)).toMatchObject({ nodeType: 'passive', port: net.port })
    expect(await listed(first.port)).toContain(net.nodeId)
    console.log(
      `healing: listed again ${healMs.toFixed(0)} ms after the server came back (down ${info.downMs.toFixed(0)} ms in all)`,
    )
  })

  it('tells in the start report when a fallback server answered instead of the preferred one', async () => {
    const dead = await startServer()
    await dead.server.close()
    const live = await startServer()
    const net = new Net({ ...loopback, servers: [`127.0.0.1:${dead.port}`, `127.0.0.1:${live.port}`] })
    cleanups.push(() => net.stop())
    const report = await net.start({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(report.server).toBe(`127.0.0.1:${live.port}`)
    expect(report.reasons.join('\n')).toMatch(
      new RegExp(
        `bootstrap server 127\\.0\\.0\\.1:${dead.port} did not answer: using 127\\.0\\.0\\.1:${live.port}`,
      ),
    )
  })

  it('forgets a SIGKILLed node once the node lifetime has passed (server on a manual clock)', async () => {
    let now = 0
    const lifetime = 60_000
    const { server, port } = await startServer(0, { clock: { now: () => now }, nodeLifetimeMs: lifetime })
    const child = spawnNode({ ...loopback, servers: [`127.0.0.1:${port}`] })
    cleanups.push(() => {
      if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL')
    })
    const started = await child.next('started')
    const nodeId = (started.report as { nodeId: string }).nodeId
    child.send({ cmd: 'advertise' })
    expect((await child.next('advertised')).listed).toBe(true)
    expect(await listed(port)).toContain(nodeId)

    // kill -9 by PID: no CLEAR, no QUIT; the kernel closes its sockets
    const exited = once(child.proc, 'exit', { signal: AbortSignal.timeout(WAIT_MS) })
    process.kill(child.proc.pid!, 'SIGKILL')
    expect((await exited)[1]).toBe('SIGKILL')
    // a passive registration outlives its connection (the protocol): still listed within the lifetime
    now += lifetime - 1
    server.sweep()
    expect(await listed(port)).toContain(nodeId)
    // the documented lifetime (`nodeLifetimeMs`, 24 h by default) passes: forgotten
    now += 2
    server.sweep()
    expect(server.nodes.get(nodeId)).toBeUndefined()
    expect(await listed(port)).not.toContain(nodeId)
  })
})

type Event = { event: string } & Record<string, unknown>

/** A Net in a child process (test/fixtures/net-node.ts), driven by JSON lines. */
function spawnNode(options: object): {
  proc: ChildProcess
  send(cmd: object): void
  next(event: string): Promise<Event>
} {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pyp2p/source', 'test/fixtures/net-node.ts', JSON.stringify(options)],
    { cwd: pkg, stdio: ['pipe', 'pipe', 'inherit'] },
  )
  const events: Event[] = []
  const waiters = new Set<() => void>()
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    if (!line.startsWith('{')) return
    events.push(JSON.parse(line) as Event)
    for (const w of waiters) w()
  })
  return {
    proc,
    send: (cmd) => proc.stdin!.write(`${JSON.stringify(cmd)}\n`),
    next: (event) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((e) => e.event === event)
          if (found === undefined) return
          done()
          resolve(found)
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`no ${event} event; got ${JSON.stringify(events)}`))
        }, WAIT_MS * 2)
        const done = (): void => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      }),
  }
}
