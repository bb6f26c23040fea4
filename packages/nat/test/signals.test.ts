import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { removeMappingsOnExit } from '../src/signals.js'

const fixture = fileURLToPath(new URL('./fixtures/exit-cleanup.ts', import.meta.url))

function run(signal: NodeJS.Signals) {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    out += d
    if (out === 'ready\n') child.kill(signal)
  })
  return new Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, sig) => resolve({ out, code, signal: sig })),
  )
}

describe('removeMappingsOnExit', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s closes the client, then dies of the same signal',
    async (sig) => {
      const r = await run(sig)
      expect(r.out).toBe('ready\nclosing\nclosed\n')
      expect(r.signal).toBe(sig)
    },
  )

  it('installs nothing until called, and its disposer removes the handlers', () => {
    const before = process.listenerCount('SIGTERM')
    const detach = removeMappingsOnExit({ close: async () => {} })
    expect(process.listenerCount('SIGTERM')).toBe(before + 1)
    detach()
    expect(process.listenerCount('SIGTERM')).toBe(before)
  })
})
