/**
 * `npm run demo:lab` (examples/src/demo-lab.ts) as a user runs it: Alice and Bob behind two real NAT
 * routers (one drops unsolicited SYNs, one answers them with RST) reach each other by a hole punch.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { labReadiness } from '@pyp2p/netlab'
import { describe, expect, it } from 'vitest'

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples')
const BOUND_MS = 90_000
const ready = await labReadiness()

describe.skipIf(!ready.ok)('examples/src/demo-lab.ts', () => {
  it('punches through two NATs, exchanges a line each way, removes the lab, exits 0', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@pyp2p/source', 'src/demo-lab.ts'],
      {
        cwd: examples,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), BOUND_MS)
    const [code] = (await once(child, 'exit')) as [number | null]
    clearTimeout(timer)
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' })
    expect(stdout).toMatch(/alice +simultaneous node \(NAT preserving\)/)
    expect(stdout).toMatch(/bob -> alice +connected in [\d.]+ ms; method: punch/)
    expect(stdout).toContain('alice received     "hello, this is Bob"')
    expect(stdout).toContain('bob received       "hi, this is Alice"')
  })
})
