#!/usr/bin/env node
// Checks, by name and version, that the packages with known advisories that nat-upnp 1.1.1 and
// nat-pmp 1.0.0 pull in are neither installed nor shipped (the registry's audit endpoint is not
// reachable from the build machines). Three looks:
//   1. the installed tree: the workspace's pnpm store, and what nat-upnp/nat-pmp resolve;
//   2. the patched copies really are patched (IGD v2 service, no `request`/`xml2js` require);
//   3. the packed package (`pnpm pack`, building dist first if missing): its package.json
//      dependencies and the bundled dist code.
// Prints one line per check (or JSON with --json) and exits 1 when any fails.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(pkgDir, '..', '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)

/** name -> predicate on the version: true = flagged */
const FLAGGED = {
  request: () => true, // deprecated, SSRF advisory never fixed (GHSA-p8p7-x288-28g6)
  ip: (v) => major(v) < 2 || v === '2.0.0', // SSRF advisories (CVE-2023-42282, CVE-2024-29415)
  xml2js: (v) => major(v) === 0 && minor(v) < 5, // prototype pollution, fixed in 0.5.0 (CVE-2023-0842)
  async: (v) => major(v) < 2 || (major(v) === 2 && minor(v) < 6) || (v.startsWith('2.6.') && patch(v) < 4), // CVE-2021-43138
  debug: (v) => major(v) < 2 || (major(v) === 2 && (minor(v) < 6 || (minor(v) === 6 && patch(v) < 9))), // ReDoS CVE-2017-16137
}
const major = (v) => Number(v.split('.')[0])
const minor = (v) => Number(v.split('.')[1])
const patch = (v) => Number.parseInt(v.split('.')[2] ?? '0', 10)

const results = []
const check = (name, ok, detail) => results.push({ name, ok, detail })

// 1. the installed tree
const store = join(root, 'node_modules', '.pnpm')
const storeEntries = existsSync(store) ? readdirSync(store) : []
const flaggedInStore = []
for (const entry of storeEntries) {
  const at = entry.lastIndexOf('@')
  if (at <= 0) continue
  const name = entry.slice(0, at).replace('+', '/')
  const version = entry.slice(at + 1).split('_')[0]
  if (FLAGGED[name]?.(version)) flaggedInStore.push(`${name}@${version}`)
}
check(
  'workspace store holds no flagged package',
  flaggedInStore.length === 0,
  flaggedInStore.join(', ') || 'none',
)

const req = createRequire(join(pkgDir, 'package.json'))
for (const dep of ['nat-upnp', 'nat-pmp']) {
  const depDir = dirname(realpathSync(req.resolve(`${dep}/package.json`)))
  const depReq = createRequire(join(depDir, 'package.json'))
  const found = []
  for (const name of Object.keys(FLAGGED)) {
    try {
      const version = JSON.parse(readFileSync(depReq.resolve(`${name}/package.json`), 'utf8')).version
      if (FLAGGED[name](version)) found.push(`${name}@${version}`)
    } catch {
      // not resolvable from there: good
    }
  }
  check(`${dep} resolves no flagged dependency`, found.length === 0, found.join(', ') || 'none')
}

// 2. the patches are applied
const upnpDir = dirname(realpathSync(req.resolve('nat-upnp/package.json')))
const device = readFileSync(join(upnpDir, 'lib', 'nat-upnp', 'device.js'), 'utf8')
check(
  'nat-upnp is patched (IGD v2, no request/xml2js)',
  device.includes('WANIPConnection:2') && !/require\('(request|xml2js)'\)/.test(device),
  upnpDir,
)
const pmp = readFileSync(req.resolve('nat-pmp'), 'utf8')
check('nat-pmp is patched (ephemeral port, retransmission)', pmp.includes('Patched by @pyp2p/nat'), '')

// 3. the packed package
if (!existsSync(join(pkgDir, 'dist', 'index.js'))) {
  execFileSync(bin('tsup'), [], { cwd: pkgDir, stdio: 'ignore' })
}
const tmp = mkdtempSync(join(tmpdir(), 'pyp2p-nat-pack-'))
try {
  const out = execFileSync(bin('pnpm'), ['pack', '--pack-destination', tmp], {
    cwd: pkgDir,
    encoding: 'utf8',
  })
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'))
  if (!tarball) throw new Error(`pnpm pack wrote no tarball: ${out}`)
  execFileSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp])
  const packed = JSON.parse(readFileSync(join(tmp, 'package', 'package.json'), 'utf8'))
  const deps = { ...packed.dependencies, ...packed.optionalDependencies, ...packed.peerDependencies }
  const bad = Object.keys(deps).filter((d) =>
    d in FLAGGED ? FLAGGED[d](deps[d].replace(/^[\^~]/, '')) : ['nat-upnp', 'nat-pmp'].includes(d),
  )
  check(
    'packed package.json depends on nothing flagged (nor on nat-upnp/nat-pmp)',
    bad.length === 0,
    JSON.stringify(deps),
  )
  const distDir = join(tmp, 'package', 'dist')
  const requires = new Set()
  for (const f of readdirSync(distDir).filter((f) => /\.(c?js)$/.test(f))) {
    const code = readFileSync(join(distDir, f), 'utf8')
    const specifiers =
      /\brequire\(["']([^"']+)["']\)|^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm
    for (const m of code.matchAll(specifiers)) requires.add(m[1] ?? m[2] ?? m[3])
  }
  const external = [...requires].filter(
    (r) => !r.startsWith('.') && !r.startsWith('node:') && !builtinModules.includes(r),
  )
  check(
    'packed dist loads only node built-ins, debug and our own @pyp2p/limits (no dependencies of its own)',
    external.every((r) => r === 'debug' || r === '@pyp2p/limits'),
    external.join(', ') || 'none',
  )
  const bundle = readdirSync(distDir)
    .map((f) => readFileSync(join(distDir, f), 'utf8'))
    .join('\n')
  check('packed dist carries the patched nat-upnp (IGD v2)', bundle.includes('WANIPConnection:2'), tarball)
} finally {
  rmSync(tmp, { recursive: true, force: true })
}

const failed = results.filter((r) => !r.ok)
if (process.argv.includes('--json'))
  process.stdout.write(`${JSON.stringify({ ok: failed.length === 0, results })}\n`)
else for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`)
process.exitCode = failed.length === 0 ? 0 : 1
