/**
 * The programs in examples/ run as users run them (`node --import tsx`, workspace packages from their
 * sources through the `@pyp2p/source` condition) against a bootstrap server on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples')
const BOUND_MS = 45_000

interface Run {
  child: ChildProcess
  stdout: () => string
  exited: Promise<{ code: number | null; stdout: string; stderr: string }>
}

function run(script: string, args: string[]): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@pyp2p/source', `src/${script}`, ...args],
    {
      cwd: examples,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS)
  const exited = once(child, 'exit').then(([code]) => {
    clearTimeout(timer)
    return { code: code as number | null, stdout, stderr }
  })
  return { child, stdout: () => stdout, exited }
}

/** Resolves when the child has printed `pattern`; rejects if it exits first. */
function printed(r: Run, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(r.stdout())) return
      r.child.stdout!.off('data', check)
      resolve()
    }
    r.child.stdout!.on('data', check)
    r.exited.then((e) =>
      reject(new Error(`exited (${e.code}) before printing ${pattern}: ${e.stdout}${e.stderr}`)),
    )
    check()
  })
}

describe('examples', () => {
  let server: BootstrapServer
  let address: string

  beforeAll(async () => {
    server = new BootstrapServer({ host: '127.0.0.1', port: 0 })
    const { port } = await server.listen()
    address = `127.0.0.1:${port}`
  })
  afterAll(() => server.close())

  it('alice.ts and bob.ts: Bob finds Alice through the server, Alice prints his line', async () => {
    const alice = run('alice.ts', ['--server', address, '--port', '0', '--once'])
    await printed(alice, /Alice is a passive node listening on 127\.0\.0\.1:\d+/)
    const bob = run('bob.ts', ['--server', address, '--port', '0', '--once'])
    const [a, b] = await Promise.all([alice.exited, bob.exited])
    expect(a.stderr).toBe('')
    expect(a.code).toBe(0)
    expect(a.stdout.split('\n').slice(1)).toEqual(['test', ''])
    expect(b.stderr).toBe('')
    expect(b.code).toBe(0)
    expect(b.stdout).toMatch(
      /^Bob is a passive node listening on 127\.0\.0\.1:\d+\nBob sent [1-9]\d* line\(s\); his peers have gone\n$/,
    )
    expect(server.stats().nodes).toBe(0) // both left the server
  })

  it('direct-connect.ts: Alice connects to Bob by his UNL', async () => {
    const r = await run('direct-connect.ts', ['--server', address]).exited
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toBe(
      'Alice successfully connected to Bob (method: lan).\nBob got: hello Bob, this is Alice\n',
    )
  })

  it('demo.ts (npm start): two nodes find each other, exchange lines, and it exits 0', async () => {
    const r = await run('demo.ts', []).exited
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/bob -> alice +connected in [\d.]+ ms; method: bootstrap/)
    expect(r.stdout).toMatch(/alice received +"hello Alice, this is Bob"/)
    expect(r.stdout).toMatch(/bob received +"hi Bob, Alice here"/)
    expect(r.stdout).toMatch(/\nok: both nodes stopped/)
  })
})
