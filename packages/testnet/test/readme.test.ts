import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const fixture = join(pkg, 'test', 'fixtures', 'readme-example.ts')

describe('README', () => {
  it('the example is the fixture, and the fixture runs and prints what it says', async () => {
    const readme = await readFile(join(pkg, 'README.md'), 'utf8')
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(example).toBe(await readFile(fixture, 'utf8'))
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@pyp2p/source', fixture],
      { cwd: pkg, timeout: 30_000 },
    )
    expect(stdout).toBe('hello\n2\n')
  })
})
