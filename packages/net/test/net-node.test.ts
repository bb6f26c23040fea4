/**
 * The child-process node (test/fixtures/net-node.ts) that NAT-lab tests run on hosts behind routers,
 * checked here on loopback: two processes find each other, connect by UNL, exchange lines, stop.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { describe, expect, it } from 'vitest'
import { WAIT_MS } from './helpers.js'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
type Event = { event: string } & Record<string, unknown>

class NodeProcess {
  readonly child: ChildProcess
  readonly events: Event[] = []
  readonly #waiters = new Set<() => void>()

  constructor(options: object) {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@pyp2p/source', 'test/fixtures/net-node.ts', JSON.stringify(options)],
      { cwd: pkg, stdio: ['pipe', 'pipe', 'inherit'] },
    )
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.events.push(JSON.parse(line) as Event)
      for (const w of this.#waiters) w()
    })
  }

  send(cmd: object): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`)
  }

  /** The first event (since the start) matching, bounded. */
  wait(match: (e: Event) => boolean): Promise<Event> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.find(match)
        if (found === undefined) return
        done()
        resolve(found)
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no matching event; got ${JSON.stringify(this.events)}`))
      }, WAIT_MS)
      const done = (): void => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
  }
}

describe('test/fixtures/net-node.ts', () => {
  it('two node processes: advertise, connect by UNL, exchange lines, stop', async () => {
    await using server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await server.listen()
    const options = { passiveBind: '127.0.0.1', passivePort: 0, servers: [`127.0.0.1:${port}`] }
    const a = new NodeProcess(options)
    const b = new NodeProcess(options)
    try {
      const started = (await a.wait((e) => e.event === 'started')).report as { unl: string; nodeId: string }
      await b.wait((e) => e.event === 'started')
      a.send({ cmd: 'advertise' })
      expect((await a.wait((e) => e.event === 'advertised')).listed).toBe(true)
      b.send({ cmd: 'connect', unl: started.unl })
      const connected = await b.wait((e) => e.event === 'connected')
      expect(connected.info).toMatchObject({ nodeId: started.nodeId, method: 'lan', direction: 'outbound' })
      await a.wait((e) => e.event === 'connection')
      b.send({ cmd: 'send', line: 'over the wire' })
      expect((await a.wait((e) => e.event === 'line')).line).toBe('over the wire')
      for (const n of [a, b]) n.send({ cmd: 'stop' })
      const exits = await Promise.all([a, b].map((n) => once(n.child, 'exit')))
      expect(exits.map(([code]) => code)).toEqual([0, 0])
      expect(server.stats().nodes).toBe(0)
    } finally {
      for (const n of [a, b]) if (n.child.exitCode === null) n.child.kill('SIGKILL')
    }
  })
})
