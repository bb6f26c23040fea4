#!/usr/bin/env node
// `npm test`: lint, check the structure (scripts/check-structure.mjs), type-check and package-exports
// check every package, then run the whole vitest suite
// (unit and lab tests) and print one closing line "tests: N passed, N failed, N skipped".
import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name) => join(root, 'node_modules', '.bin', name)
const PATH = `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`
const env = { ...process.env, PATH, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' }
const failures = []

function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}\n`)
  const res = spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' })
  if (res.status !== 0) failures.push(`${title} (exit ${res.status ?? res.signal})`)
}

const extra = process.argv.slice(2)
if (extra.length === 0) {
  step('lint (biome)', bin('biome'), ['ci', '.'])
  step('structure (layers, import cycles, file sizes)', process.execPath, [
    join(root, 'scripts', 'check-structure.mjs'),
  ])
  step('typecheck', bin('turbo'), ['run', 'typecheck', '--output-logs=errors-only'])
  step('package exports (publint + attw)', bin('turbo'), [
    'run',
    'check:exports',
    '--output-logs=errors-only',
  ])
}
const out = join(root, 'node_modules', '.cache', 'vitest-results.json')
rmSync(out, { force: true })
step('tests (vitest)', bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${out}`,
  ...extra,
])

let summary = 'tests: no results were written'
try {
  const r = JSON.parse(readFileSync(out, 'utf8'))
  const skipped = r.numPendingTests + r.numTodoTests
  summary = `tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`
  if (r.numTotalTests === 0) failures.push('no test ran')
} catch {
  failures.push('vitest wrote no results')
}
process.stdout.write(`\n${summary}\n`)
if (failures.length > 0) {
  process.stdout.write(`FAILED: ${failures.join('; ')}\n`)
  process.exit(1)
}
