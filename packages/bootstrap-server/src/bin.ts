#!/usr/bin/env node
/** Executable entry: `npx @pyp2p/bootstrap-server --help`. */
import { runCli } from './cli.js'

runCli(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
