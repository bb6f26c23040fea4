#!/usr/bin/env node
// pyp2p-doctor: why can (or can't) peers reach this machine? Prints a report; --json prints one object.
import { parseArgs } from 'node:util'
import { runDoctor } from './doctor.js'
import { DoctorError } from './errors.js'
import { formatReport } from './format.js'
import { parseServer } from './nat-check.js'

const USAGE = `usage: pyp2p-doctor [--server host:port] [--json] [--no-mapping]

  --server host:port  a @pyp2p/bootstrap-server: also test how your NAT maps and filters
  --json              print one JSON object (schema pyp2p-doctor/1, see the README)
  --no-mapping        do not make a test port mapping on the router
  -h, --help          this text
`

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      json: { type: 'boolean' },
      'no-mapping': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  const server = values.server === undefined ? undefined : parseServer(values.server)
  const report = await runDoctor({
    ...(server ? { server } : {}),
    testMapping: values['no-mapping'] !== true,
  })
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report))
  return 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const usage = err instanceof DoctorError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    process.stderr.write(`${(err as Error).message}\n${usage ? `\n${USAGE}` : ''}`)
    process.exitCode = usage ? 2 : 1
  },
)
