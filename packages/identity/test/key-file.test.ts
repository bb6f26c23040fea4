import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatKeyFile, IdentityError, NodeIdentity, parseKeyFile } from '../src/index.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pyp2p-identity-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (err) {
    if (err instanceof IdentityError) return err.code
    throw err
  }
  return undefined
}

describe('NodeIdentity.load', () => {
  it('creates a 0600 key file once and loads the same identity after', async () => {
    const path = join(dir, 'sub', 'identity.json')
    const first = await NodeIdentity.load(path, { create: true })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const again = await NodeIdentity.load(path)
    expect(again.nodeId).toBe(first.nodeId)
    expect(parseKeyFile(await readFile(path, 'utf8')).nodeId).toBe(first.nodeId)
  })

  it('gives every concurrent creator the one identity that won (atomic create)', async () => {
    const path = join(dir, 'identity.json')
    const ids = await Promise.all(Array.from({ length: 8 }, () => NodeIdentity.load(path, { create: true })))
    expect(new Set(ids.map((id) => id.nodeId)).size).toBe(1)
  })

  it('refuses a file group or others can read', async () => {
    const path = join(dir, 'identity.json')
    await NodeIdentity.load(path, { create: true })
    await chmod(path, 0o644)
    expect(await codeOf(NodeIdentity.load(path))).toBe('ERR_KEY_FILE_PERMISSIONS')
    await chmod(path, 0o640)
    expect(await codeOf(NodeIdentity.load(path))).toBe('ERR_KEY_FILE_PERMISSIONS')
  })

  it('says when there is no file, and does not create one unless asked', async () => {
    expect(await codeOf(NodeIdentity.load(join(dir, 'none.json')))).toBe('ERR_KEY_FILE_NOT_FOUND')
  })

  it('refuses invalid content, a directory, and a secret that does not match its node id', async () => {
    const path = join(dir, 'identity.json')
    await writeFile(path, 'not json', { mode: 0o600 })
    expect(await codeOf(NodeIdentity.load(path))).toBe('ERR_KEY_FILE_INVALID')
    const a = NodeIdentity.generate()
    const b = NodeIdentity.generate()
    await writeFile(path, formatKeyFile({ nodeId: b.nodeId, secret: a.secret }), { mode: 0o600 })
    expect(await codeOf(NodeIdentity.load(path))).toBe('ERR_KEY_FILE_INVALID')
    expect(await codeOf(NodeIdentity.load(dir))).toBe('ERR_KEY_FILE_INVALID')
  })

  it('honours an aborted signal', async () => {
    expect(
      await codeOf(NodeIdentity.load(join(dir, 'x.json'), { create: true, signal: AbortSignal.abort() })),
    ).toBe('ERR_ABORTED')
  })
})

describe('parseKeyFile', () => {
  it('round-trips formatKeyFile', () => {
    const id = NodeIdentity.generate()
    expect(parseKeyFile(formatKeyFile({ nodeId: id.nodeId, secret: id.secret }))).toEqual({
      nodeId: id.nodeId,
      secret: id.secret,
    })
  })

  it('rejects extra or missing fields and other versions', () => {
    const id = NodeIdentity.generate()
    const good = JSON.parse(formatKeyFile({ nodeId: id.nodeId, secret: id.secret })) as Record<
      string,
      unknown
    >
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, version: 2 },
      { ...good, type: 'x' },
      [good],
      null,
      5,
    ]) {
      expect(() => parseKeyFile(JSON.stringify(bad))).toThrow(IdentityError)
    }
  })

  it('throws only IdentityError for any text (fast-check)', () => {
    const id = NodeIdentity.generate()
    const good = formatKeyFile({ nodeId: id.nodeId, secret: id.secret })
    const mutated = fc
      .tuple(fc.nat({ max: good.length }), fc.string({ maxLength: 5 }))
      .map(([at, s]) => good.slice(0, at) + s + good.slice(at + s.length))
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), mutated), (text) => {
        try {
          parseKeyFile(text)
        } catch (err) {
          expect(err).toBeInstanceOf(IdentityError)
          expect((err as IdentityError).code).toBe('ERR_KEY_FILE_INVALID')
        }
      }),
      { numRuns: 500 },
    )
  })
})
