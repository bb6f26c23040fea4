// Regression: Node 20 can deadlock the whole process when a key made by `generateKeyPairSync` is
// exported as a JWK while a GC frees the generation job (the job's destructor takes the mutex the
// export holds). bench:secure hung that way about once in six runs (every handshake in the process
// then ended in ERR_HANDSHAKE_TIMEOUT). The child forces the GC at that very point (see the fixture):
// with `generateKeyPairSync` behind generateDhKeyPair it never exits; it must finish.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const FIXTURE = fileURLToPath(new URL('./fixtures/gc-during-export.ts', import.meta.url))
// A bound for a deadlocked child (it would otherwise never exit); a run takes well under a second.
const HANG_BOUND = 60_000

describe('X25519 key generation under GC', () => {
  it('does not deadlock when a GC runs inside the public key export', async () => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--conditions=@pyp2p/source', FIXTURE],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
    })
    const bound = setTimeout(() => child.kill('SIGKILL'), HANG_BOUND)
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
    clearTimeout(bound)
    expect(signal, `the child deadlocked (killed after ${HANG_BOUND} ms); stderr: ${err}`).toBeNull()
    expect(code, err).toBe(0)
    expect(JSON.parse(out)).toEqual({ made: 3, gcs: 3 })
  }, 90_000)
})
