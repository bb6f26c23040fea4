// labReadiness(): can this machine build a lab? Root, the binaries, and a namespace that can be made.
import { randomBytes } from 'node:crypto'
import { accessSync, constants as fsConstants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { run } from './command.js'
import { PREFIX_HEAD, REQUIRED_BINARIES } from './constants.js'
import { NetlabError } from './errors.js'

export interface LabReadiness {
  ok: boolean
  reason?: string
}

/** PATH plus the sbin directories, which a non-login root shell may lack. */
function searchPath(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  for (const d of ['/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'])
    if (!dirs.includes(d)) dirs.push(d)
  return dirs
}

export function findBinary(name: string): string | undefined {
  for (const dir of searchPath()) {
    const file = join(dir, name)
    try {
      accessSync(file, fsConstants.X_OK)
      return file
    } catch {
      // not here
    }
  }
  return undefined
}

let cached: Promise<LabReadiness> | undefined
let told = false

async function check(): Promise<LabReadiness> {
  if (process.platform !== 'linux') return { ok: false, reason: 'the NAT lab needs Linux network namespaces' }
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the NAT lab needs root (network namespaces, nft)' }
  const missing = REQUIRED_BINARIES.filter((b) => findBinary(b) === undefined)
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `missing ${missing.join(', ')} (apt-get install iproute2 nftables conntrack miniupnpd-nftables miniupnpc natpmpc util-linux procps)`,
    }
  }
  const ns = `${PREFIX_HEAD}${process.pid}-${randomBytes(2).toString('hex')}-probe`
  const add = await run(['ip', 'netns', 'add', ns])
  if (add.code !== 0) return { ok: false, reason: `cannot create a network namespace: ${add.stderr.trim()}` }
  try {
    const nft = await run(['ip', 'netns', 'exec', ns, 'nft', 'list', 'tables'])
    if (nft.code !== 0) return { ok: false, reason: `nft does not work in a namespace: ${nft.stderr.trim()}` }
  } finally {
    await run(['ip', 'netns', 'del', ns])
  }
  return { ok: true }
}

/**
 * Whether lab tests can run here. Outside CI it resolves `{ ok: false, reason }` when they cannot, and
 * prints that reason once per process as one line on stderr (tests then skip: `describe.skipIf`);
 * with `CI` set it throws NetlabError ERR_LAB_NOT_READY instead, so CI fails rather than skipping.
 * The answer is computed once per process.
 */
export async function labReadiness(): Promise<LabReadiness> {
  cached ??= check()
  const res = await cached
  if (res.ok) return res
  if (process.env.CI) throw NetlabError.NOT_READY(res.reason ?? 'unknown reason')
  if (!told) {
    told = true
    // a test harness's one line, the reason its tests are skipped (deliberately not `debug`)
    process.stderr.write(`netlab: lab tests skipped: ${res.reason}\n`)
  }
  return res
}
