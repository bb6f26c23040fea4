#!/usr/bin/env node
/**
 * `pyp2p-relay`: run the dht-msg relay on its own (bootstrap-server embeds it by default).
 * Prints for humans, or one JSON object per line with --json. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util'
import { DEFAULT_RELAY_PORT, MESSAGE_TTL_MS } from './constants.js'
import { RelayServer } from './relay-server.js'

const USAGE = `Usage: pyp2p-relay [--host 0.0.0.0] [--port ${DEFAULT_RELAY_PORT}] [--message-ttl ms] [--json]

Runs the pyp2p message relay (dht-msg): nodes connect, authenticate with their node id's key, and
receive the messages other nodes send them (used for reverse connect).`

function fail(message: string): never {
  process.stderr.write(`pyp2p-relay: ${message}\n\n${USAGE}\n`)
  process.exit(2)
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = Number(text)
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`)
  return n
}

let args: ReturnType<typeof parse>
function parse() {
  return parseArgs({
    options: {
      host: { type: 'string', default: '0.0.0.0' },
      port: { type: 'string', default: String(DEFAULT_RELAY_PORT) },
      'message-ttl': { type: 'string', default: String(MESSAGE_TTL_MS) },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
}
try {
  args = parse()
} catch (err) {
  fail((err as Error).message)
}
const { values } = args
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
} else {
  const json = values.json
  const print = (event: string, data: Record<string, unknown>, human: string): void => {
    process.stdout.write(json ? `${JSON.stringify({ event, ...data })}\n` : `${human}\n`)
  }
  const server = new RelayServer({
    messageTtl: integer('message-ttl', values['message-ttl'], 1, 2 ** 31 - 1),
  })
  server.on('session', ({ nodeId, address }) => {
    if (json) print('session', { nodeId, address }, '')
  })
  const port = integer('port', values.port, 0, 65535)
  server.listen({ host: values.host, port }).then(
    (address) => print('listening', address, `pyp2p relay listening on ${address.host}:${address.port}`),
    (err: Error) => {
      process.stderr.write(`pyp2p-relay: cannot listen on ${values.host}:${port}: ${err.message}\n`)
      process.exitCode = 1
      void server.close()
    },
  )
  const stop = (): void => {
    void server.close().then(() => print('closed', {}, 'pyp2p relay stopped'))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
