#!/usr/bin/env node
// The structure rules of docs/architecture.md, checked on the sources (part of `npm test`):
// 1. a package's src/ imports workspace packages only from layers below its own;
// 2. no import cycle inside a package's src/, type-only imports included;
// 3. no library source file over 300 lines.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const MAX_LINES = 300

// The layers of docs/architecture.md. Servers and test tooling sit apart, with their own allowed list.
const LAYER = {
  framing: 1,
  limits: 1,
  identity: 1,
  'rendezvous-protocol': 1,
  punch: 2,
  nat: 2,
  'dht-msg': 2,
  secure: 2,
  relay: 2,
  unl: 3,
  doctor: 3,
  net: 4,
  testnet: 5,
}
// testnet runs a real bootstrap server beside the nodes it starts: that is its job (tests only).
const EXTRA = { testnet: ['bootstrap-server'] }
const APART = {
  'bootstrap-server': ['framing', 'limits', 'identity', 'rendezvous-protocol', 'dht-msg', 'relay'],
  netlab: [],
}

const problems = []
const packagesDir = join(root, 'packages')

function sourceFiles(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p))
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

// Every module specifier of import/export ... from '...', `import '...'` and `import('...')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g

for (const pkg of readdirSync(packagesDir).sort()) {
  const src = join(packagesDir, pkg, 'src')
  if (!existsSync(src)) continue
  if (!(pkg in LAYER) && !(pkg in APART)) {
    problems.push(`packages/${pkg}: not in the layers of docs/architecture.md (add it there and here)`)
    continue
  }
  const files = sourceFiles(src)
  const graph = new Map()
  for (const file of files) {
    const raw = readFileSync(file, 'utf8')
    // Comments hold examples (`import ... from '@pyp2p/...'` in a doc comment is not an import).
    const text = raw.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
    const rel = relative(root, file)
    const lines = raw.split('\n').length - (raw.endsWith('\n') ? 1 : 0)
    if (lines > MAX_LINES && !rel.endsWith('.d.ts')) {
      problems.push(`${rel}: ${lines} lines (split it by job: at most ${MAX_LINES})`)
    }
    const edges = []
    for (const m of text.matchAll(SPECIFIER)) {
      const spec = m[1]
      const ws = /^@pyp2p\/([^/]+)/.exec(spec)
      if (ws !== null) {
        const dep = ws[1]
        if (dep === pkg) continue
        const allowed =
          (EXTRA[pkg] ?? []).includes(dep) ||
          (pkg in APART ? APART[pkg].includes(dep) : dep in LAYER && LAYER[dep] < LAYER[pkg])
        if (!allowed) problems.push(`${rel}: imports @pyp2p/${dep}, against the arrows`)
      } else if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'))
        if (existsSync(target)) edges.push(target)
      }
    }
    graph.set(file, edges)
  }
  // Cycles: depth-first search with colours; report each cycle once by its path.
  const state = new Map()
  const stack = []
  const visit = (node) => {
    state.set(node, 1)
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 1) {
        const cycle = stack.slice(stack.indexOf(next)).map((f) => relative(src, f))
        problems.push(`packages/${pkg}/src: import cycle ${[...cycle, relative(src, next)].join(' -> ')}`)
      } else if (!state.has(next)) visit(next)
    }
    stack.pop()
    state.set(node, 2)
  }
  for (const file of files) if (!state.has(file)) visit(file)
}

if (problems.length > 0) {
  process.stdout.write(`${problems.join('\n')}\n`)
  process.exit(1)
}
process.stdout.write('structure: layers, import cycles and file sizes as docs/architecture.md says\n')
