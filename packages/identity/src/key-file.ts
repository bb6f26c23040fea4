/**
 * The identity key file: one JSON object, created by this package with mode 0600, atomically (written
 * to a temporary file, then hard-linked into place, which never replaces an existing file).
 *
 * `{"type":"pyp2p-identity","version":1,"nodeId":"<40 hex>","secret":"<43 base64url>"}`
 */

import { randomBytes } from 'node:crypto'
import { constants as fsConstants } from 'node:fs'
import { type FileHandle, link, mkdir, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import {
  KEY_FILE_FORBIDDEN_BITS,
  KEY_FILE_MODE,
  KEY_FILE_TYPE,
  KEY_FILE_VERSION,
  MAX_KEY_FILE_BYTES,
} from './constants.js'
import { IdentityError } from './errors.js'
import { nodeIdFromPublicKey, privateKeyFromSeed, rawPublicKey } from './keys.js'

export interface KeyFileContent {
  nodeId: string
  secret: string
}

export interface LoadIdentityOptions {
  /** Create the file (mode 0600, new random key) when it does not exist. Default `false`. */
  create?: boolean
  signal?: AbortSignal
}

const FIELDS = ['type', 'version', 'nodeId', 'secret']

function nodeIdOfSecret(secret: string): string {
  return nodeIdFromPublicKey(rawPublicKey(privateKeyFromSeed(secret)))
}

/** The text of a key file. */
export function formatKeyFile(content: KeyFileContent): string {
  const { nodeId, secret } = content
  return `${JSON.stringify({ type: KEY_FILE_TYPE, version: KEY_FILE_VERSION, nodeId, secret })}\n`
}

/**
 * Parses a key file's text strictly: exactly the four fields, the known type and version, a valid
 * secret whose key hashes to the stated node id. Throws `ERR_KEY_FILE_INVALID`, nothing else.
 */
export function parseKeyFile(text: string, path = '(text)'): KeyFileContent {
  if (typeof text !== 'string' || text.length > MAX_KEY_FILE_BYTES) {
    throw IdentityError.KEY_FILE_INVALID(path, 'not a key file (too long or not text)')
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw IdentityError.KEY_FILE_INVALID(path, 'not JSON', err)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw IdentityError.KEY_FILE_INVALID(path, 'not a JSON object')
  }
  const record = value as Record<string, unknown>
  const keys = Object.keys(record)
  if (keys.length !== FIELDS.length || !FIELDS.every((field) => keys.includes(field))) {
    throw IdentityError.KEY_FILE_INVALID(path, `want exactly the fields ${FIELDS.join(', ')}`)
  }
  if (record.type !== KEY_FILE_TYPE) throw IdentityError.KEY_FILE_INVALID(path, 'unknown type')
  if (record.version !== KEY_FILE_VERSION)
    throw IdentityError.KEY_FILE_INVALID(path, `unsupported version ${String(record.version)}`)
  const { nodeId, secret } = record
  if (typeof secret !== 'string' || typeof nodeId !== 'string') {
    throw IdentityError.KEY_FILE_INVALID(path, 'nodeId and secret must be strings')
  }
  let derived: string
  try {
    derived = nodeIdOfSecret(secret)
  } catch (err) {
    throw IdentityError.KEY_FILE_INVALID(path, 'bad secret', err)
  }
  if (derived !== nodeId) {
    throw IdentityError.KEY_FILE_INVALID(path, 'the secret does not belong to the stated node id')
  }
  return { nodeId, secret }
}

/** The secret in the key file at `path`, creating the file first when asked to. */
export async function readOrCreateKeyFile(
  path: string,
  options: LoadIdentityOptions = {},
): Promise<KeyFileContent> {
  const { create = false, signal } = options
  if (signal?.aborted) throw IdentityError.ABORTED(signal.reason)
  let handle: FileHandle
  try {
    handle = await open(path, fsConstants.O_RDONLY)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw IdentityError.KEY_FILE_IO(path, err)
    if (!create) throw IdentityError.KEY_FILE_NOT_FOUND(path, err)
    const created = await createKeyFile(path, signal)
    // Lost a race with another process creating the same file: use the one that won.
    return created ?? readOrCreateKeyFile(path, { create: false, ...(signal ? { signal } : {}) })
  }
  try {
    return await readKeyFile(handle, path, signal)
  } finally {
    await handle.close()
  }
}

async function readKeyFile(handle: FileHandle, path: string, signal?: AbortSignal): Promise<KeyFileContent> {
  let stat: Awaited<ReturnType<FileHandle['stat']>>
  try {
    stat = await handle.stat()
  } catch (err) {
    throw IdentityError.KEY_FILE_IO(path, err)
  }
  if (!stat.isFile()) throw IdentityError.KEY_FILE_INVALID(path, 'not a regular file')
  // Windows has no such mode bits; its ACLs are the user's to set.
  if (process.platform !== 'win32' && (stat.mode & KEY_FILE_FORBIDDEN_BITS) !== 0) {
    throw IdentityError.KEY_FILE_PERMISSIONS(path, stat.mode)
  }
  if (stat.size > MAX_KEY_FILE_BYTES) throw IdentityError.KEY_FILE_INVALID(path, 'too large')
  const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1)
  let length: number
  try {
    length = (await handle.read(buffer, 0, buffer.length, 0)).bytesRead
  } catch (err) {
    throw IdentityError.KEY_FILE_IO(path, err)
  }
  if (signal?.aborted) throw IdentityError.ABORTED(signal.reason)
  const bytes = buffer.subarray(0, length)
  const text = bytes.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw IdentityError.KEY_FILE_INVALID(path, 'not UTF-8')
  return parseKeyFile(text, path)
}

/** Creates a new key file; `undefined` when one appeared at `path` meanwhile. */
async function createKeyFile(path: string, signal?: AbortSignal): Promise<KeyFileContent | undefined> {
  // A new key: 32 random bytes are an Ed25519 seed (see NodeIdentity.generate for why not generateKeyPairSync).
  const seed = randomBytes(32)
  const secret = seed.toString('base64url')
  const content = { nodeId: nodeIdOfSecret(secret), secret }
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 })
    const handle = await open(temporary, 'wx', KEY_FILE_MODE)
    try {
      await handle.writeFile(formatKeyFile(content))
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (signal?.aborted) throw IdentityError.ABORTED(signal.reason)
    await link(temporary, path)
    return content
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined
    if (err instanceof IdentityError) throw err
    throw IdentityError.KEY_FILE_IO(path, err)
  } finally {
    await unlink(temporary).catch(() => {})
  }
}
