#!/usr/bin/env node
// Makes a fresh clone usable with nothing but Node 20 and npm: installs pnpm's workspace (through
// `npm exec`, pinned to the version in package.json's `packageManager`) when node_modules is missing or
// older than the lockfile, then builds every package with turbo. Safe to run again: both steps are
// skipped or cached when nothing changed. `--no-build` installs only.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmSpec = pkg.packageManager // e.g. "pnpm@10.34.8"
const quiet = !process.env.PYP2P_SETUP_VERBOSE

function run(cmd, args, what) {
  // turbo looks for the package manager (pnpm, a devDependency) on PATH.
  const PATH = `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`
  const env = {
    ...process.env,
    PATH,
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    npm_config_update_notifier: 'false',
  }
  const res = spawnSync(cmd, args, {
    cwd: root,
    env,
    stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    encoding: 'utf8',
  })
  if (res.status !== 0) {
    if (quiet) process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`)
    process.stderr.write(`setup: ${what} failed (exit ${res.status ?? res.signal})\n`)
    process.exit(res.status ?? 1)
  }
}

function mtime(p) {
  try {
    return statSync(p).mtimeMs
  } catch {
    return 0
  }
}

// pnpm writes node_modules/.modules.yaml last; it is older than the lockfile when a pull changed deps.
const modules = join(root, 'node_modules', '.modules.yaml')
const needInstall = !existsSync(modules) || mtime(modules) < mtime(join(root, 'pnpm-lock.yaml'))
if (needInstall) {
  process.stderr.write(`setup: installing dependencies with ${pnpmSpec} ...\n`)
  const frozen = process.env.CI ? ['--frozen-lockfile'] : []
  run(
    'npm',
    ['exec', '--yes', `--package=${pnpmSpec}`, '--', 'pnpm', 'install', ...frozen, '--reporter=append-only'],
    'install',
  )
}

if (!process.argv.includes('--no-build')) {
  process.stderr.write('setup: building packages ...\n')
  run(join(root, 'node_modules', '.bin', 'turbo'), ['run', 'build', '--output-logs=errors-only'], 'build')
}
