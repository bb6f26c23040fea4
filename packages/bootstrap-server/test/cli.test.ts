import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { parseCliArgs } from '../src/cli.js'
import { nodeId, TestClient, WAIT_MS } from './helpers.js'

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
const children: ChildProcess[] = []

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@pyp2p/source', BIN, ...args], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, output: () => out, exited }
}

/** Resolves with the first match of `re` in the child's output; fails after WAIT_MS. */
function waitFor(r: ReturnType<typeof run>, re: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} in output:\n${r.output()}`)), WAIT_MS * 2)
    const check = (): void => {
      const m = r.output().match(re)
      if (m === null) return
      clearTimeout(timer)
      r.child.stdout?.off('data', check)
      resolve(m)
    }
    r.child.stdout?.on('data', check)
    r.exited.then(() => setImmediate(check))
    check()
  })
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

describe('CLI', () => {
  it('starts, prints "listening on", serves, and exits 0 on SIGTERM after telling clients', async () => {
    const flags = ['--allow-unsigned', '--server-id', 'boot.example:8000']
    const r = run(['--host', '127.0.0.1', '--port', '0', '--idle-timeout', '30000', ...flags])
    const m = await waitFor(r, /listening on 127\.0\.0\.1:(\d+)/)
    const client = await TestClient.connect(Number(m[1]))
    expect(client.hello.serverId).toBe('boot.example:8000')
    // --allow-unsigned: a v1 client without keys is served (the default server refuses it).
    expect(await client.request(`PASSIVE READY 80 1 ${nodeId(1)}`)).toEqual({ type: 'OK', what: 'PASSIVE' })
    r.child.kill('SIGTERM')
    expect(await client.next()).toMatchObject({ type: 'ERROR', code: 'ERR_SHUTTING_DOWN' })
    expect(await r.exited).toBe(0)
    expect(r.output()).toMatch(/INFO shutting down signal=SIGTERM/)
  })

  it('logs JSON lines with --json and stops on SIGINT', async () => {
    const r = run(['--host', '127.0.0.1', '--port', '0', '--json'])
    await waitFor(r, /"msg":"listening on/)
    const first = JSON.parse(r.output().split('\n')[0] ?? '') as Record<string, unknown>
    expect(first).toMatchObject({ level: 'info', host: '127.0.0.1', version: 1 })
    expect(typeof first.port).toBe('number')
    r.child.kill('SIGINT')
    expect(await r.exited).toBe(0)
  })

  it('--help prints usage and exits 0; bad flags exit 2', async () => {
    const help = run(['--help'])
    expect(await help.exited).toBe(0)
    expect(help.output()).toMatch(/Usage: pyp2p-bootstrap-server/)
    expect(help.output()).toMatch(/--max-nodes-per-ip <n>/)
    expect(help.output()).toMatch(/dht-msg message\s+relay/)
    expect(help.output()).toMatch(/--no-relay +do not serve the embedded dht-msg relay/)
    expect(help.output()).toMatch(/--dial-back-timeout <n>/)
    const bad = run(['--port', 'eighty'])
    expect(await bad.exited).toBe(2)
    expect(bad.output()).toMatch(/--port must be/)
  })

  it('parses limits into options', () => {
    expect(
      parseCliArgs(['--max-nodes', '5', '--challenge-timeout', '100', '--allow-loopback']).options,
    ).toEqual({
      maxNodes: 5,
      challengeTimeoutMs: 100,
      allowLoopback: true,
    })
    expect(parseCliArgs(['--no-relay', '--check-burst', '3']).options).toEqual({
      relay: false,
      checkBurst: 3,
    })
    expect(() => parseCliArgs(['--nope'])).toThrow(/Unknown option/)
    expect(() => parseCliArgs(['--log-level', 'loud'])).toThrow(/--log-level/)
  })
})
