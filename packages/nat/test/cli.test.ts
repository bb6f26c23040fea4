import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@pyp2p/source', cli, ...args], {
    encoding: 'utf8',
  })

// Only argument handling here: commands that talk to a router run in the lab (nat-*.lab.test.ts).
describe('pyp2p-nat CLI (arguments)', () => {
  it('prints usage with --help', () => {
    const r = run(['--help'])
    expect(r.status).toBe(0)
    expect(r.stdout).toMatch(/usage: pyp2p-nat/)
  })

  it('exits 2 with usage on bad arguments, before any network traffic', () => {
    for (const args of [
      [],
      ['bogus'],
      ['map'],
      ['map', '70000'],
      ['map', '80', '--bogus'],
      ['status', '--timeout', 'x'],
    ]) {
      const r = run(args)
      expect(r.status, args.join(' ')).toBe(2)
    }
  })
})
