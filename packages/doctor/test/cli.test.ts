import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@pyp2p/source', CLI, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  })

describe('pyp2p-doctor CLI (arguments only: no network traffic)', () => {
  it('prints usage with --help', () => {
    const r = run('--help')
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/^usage: pyp2p-doctor \[--server host:port\] \[--json\]/)
  })

  it('exits 2 with usage on bad arguments, before any check runs', () => {
    for (const args of [['--server', 'a b'], ['--server', 'host:0'], ['--bogus']]) {
      const r = run(...args)
      expect(r.status, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/usage: pyp2p-doctor/)
      expect(r.stdout).toBe('')
    }
  })
})
