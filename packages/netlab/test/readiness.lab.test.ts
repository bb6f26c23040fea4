import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { labReadiness } from '../src/index.js'

const ready = await labReadiness()
const FIXTURE = fileURLToPath(new URL('./fixtures/readiness.ts', import.meta.url))

/** runs the fixture as the unprivileged user `nobody` (setpriv drops root for real, no mock) */
function asNobody(env: NodeJS.ProcessEnv) {
  return spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      process.execPath,
      '--import',
      'tsx',
      FIXTURE,
    ],
    { encoding: 'utf8', env, cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 },
  )
}

describe.skipIf(!ready.ok)('labReadiness', () => {
  it('is ok here (root, the binaries, a namespace can be made)', () => {
    expect(ready).toEqual({ ok: true })
  })

  it('without root: outside CI a reason and one line on stderr; with CI set it throws', () => {
    const { CI: _ci, ...env } = process.env
    const plain = asNobody(env)
    expect(JSON.parse(plain.stdout)).toEqual({ ok: false, reason: expect.stringMatching(/needs root/) })
    expect(plain.stderr).toMatch(/^netlab: lab tests skipped: .*needs root.*\n$/)
    const ci = asNobody({ ...env, CI: 'true' })
    expect(ci.stdout.trim()).toBe('THROWN ERR_LAB_NOT_READY')
  })
})
