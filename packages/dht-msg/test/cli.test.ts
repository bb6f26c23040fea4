import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import type { TransportMessage } from '../src/index.js'
import { client, next, WAIT } from './helpers.js'

const packageDir = fileURLToPath(new URL('..', import.meta.url))
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

describe('pyp2p-relay CLI', () => {
  it('serves relay clients and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--conditions=@pyp2p/source',
        'src/cli.ts',
        '--host',
        '127.0.0.1',
        '--port',
        '0',
        '--json',
      ],
      { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const exited = once(child, 'exit')
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'))
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
    const timeout = AbortSignal.timeout(WAIT)
    const first = await Promise.race([
      lines.next(),
      new Promise<never>((_, reject) => timeout.addEventListener('abort', () => reject(timeout.reason))),
    ])
    const listening = JSON.parse(first.value as string) as { event: string; port: number }
    expect(listening.event).toBe('listening')
    const alice = await client(listening.port)
    const bob = await client(listening.port)
    const got = next<TransportMessage>(bob, 'message')
    await alice.send(bob.nodeId, 'through the CLI')
    expect((await got).message).toBe('through the CLI')
    await alice.close()
    await bob.close()
    child.kill('SIGTERM')
    const [code] = await exited
    expect(code).toBe(0)
  })

  it('refuses a bad port with a usage message', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@pyp2p/source', 'src/cli.ts', '--port', 'seventy'],
      { cwd: packageDir, stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const [code] = await once(child, 'exit', { signal: AbortSignal.timeout(WAIT) })
    expect(code).toBe(2)
    expect(stderr).toMatch(/--port must be an integer/)
  })
})
