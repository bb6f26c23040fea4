/**
 * The command line: `pyp2p-bootstrap-server --host 0.0.0.0 --port 8000 [--json] [limits...]`.
 * Prints one `listening on <host>:<port>` log line when ready; SIGINT/SIGTERM close it gracefully
 * (exit 0); a second signal exits at once (1).
 */
import { parseArgs } from 'node:util'
import * as C from './constants.js'
import { BootstrapServerError } from './errors.js'
import { createStreamLogger, type LogLevel } from './logger.js'
import type { BootstrapServerOptions } from './options.js'
import { PREFIX_FLAGS } from './prefix-options.js'
import { BootstrapServer } from './server.js'

/** Numeric flags: CLI name, option name, default, unit. */
const NUMERIC = [
  ['backlog', 'backlog', C.DEFAULT_BACKLOG, 'accept backlog (capped by net.core.somaxconn)'],
  ['max-connections', 'maxConnections', C.DEFAULT_MAX_CONNECTIONS, 'connections at once'],
  [
    'max-connections-per-ip',
    'maxConnectionsPerIp',
    C.DEFAULT_MAX_CONNECTIONS_PER_IP,
    'connections from one IP',
  ],
  ['max-nodes', 'maxNodes', C.DEFAULT_MAX_NODES, 'registered nodes in total'],
  ['max-nodes-per-ip', 'maxNodesPerIp', C.DEFAULT_MAX_NODES_PER_IP, 'registered nodes per IP'],
  [
    'max-candidates-per-node',
    'maxCandidatesPerNode',
    C.DEFAULT_MAX_CANDIDATES_PER_NODE,
    'pending punches per target',
  ],
  [
    'max-punches-per-connection',
    'maxPunchesPerConnection',
    C.DEFAULT_MAX_PUNCHES_PER_CONNECTION,
    'pending punches one connection starts',
  ],
  ['max-line-length', 'maxLineLength', C.DEFAULT_MAX_LINE_LENGTH, 'characters per client line'],
  ['max-send-buffer', 'maxSendBuffer', C.DEFAULT_MAX_SEND_BUFFER, 'unsent bytes per client'],
  [
    'idle-timeout',
    'idleTimeoutMs',
    C.DEFAULT_IDLE_TIMEOUT_MS,
    'ms before a silent non-simultaneous connection is closed',
  ],
  [
    'challenge-timeout',
    'challengeTimeoutMs',
    C.DEFAULT_CHALLENGE_TIMEOUT_MS,
    'ms a target has to ACCEPT/REJECT',
  ],
  ['node-lifetime', 'nodeLifetimeMs', C.DEFAULT_NODE_LIFETIME_MS, 'ms a registration lives'],
  ['line-rate', 'lineRate', C.DEFAULT_LINE_RATE, 'sustained lines per second per connection'],
  ['line-burst', 'lineBurst', C.DEFAULT_LINE_BURST, 'burst of lines per connection'],
  ['fight-margin', 'fightMarginMs', C.DEFAULT_FIGHT_MARGIN_MS, 'ms added to both FIGHT delays'],
  ['dial-back-timeout', 'dialBackTimeoutMs', C.DEFAULT_DIAL_BACK_TIMEOUT_MS, 'ms a CHECK dial-back may take'],
  ['check-burst', 'checkBurst', C.DEFAULT_CHECK_BURST, 'CHECKs one IP may start in a burst'],
  [
    'check-interval',
    'checkIntervalMs',
    C.DEFAULT_CHECK_INTERVAL_MS,
    'ms per further CHECK from one IP after the burst',
  ],
  ['max-pending-checks', 'maxPendingChecks', C.DEFAULT_MAX_PENDING_CHECKS, 'dial-backs running at once'],
  [
    'keepalive-delay',
    'keepAliveDelayMs',
    C.DEFAULT_KEEPALIVE_DELAY_MS,
    'ms of idle before TCP keep-alive probes',
  ],
  [
    'redis-timeout',
    'redisTimeoutMs',
    C.DEFAULT_REDIS_TIMEOUT_MS,
    'ms to wait for Redis before serving locally',
  ],
  [
    'redis-entry-ttl',
    'redisEntryTtlMs',
    C.DEFAULT_REDIS_ENTRY_TTL_MS,
    'ms a simultaneous node stays listed in Redis unless refreshed',
  ],
  [
    'redis-listing-refresh',
    'redisListingRefreshMs',
    C.DEFAULT_REDIS_LISTING_REFRESH_MS,
    'ms a BOOTSTRAP listing sampled from Redis is reused (0: ask Redis every time)',
  ],
  ...PREFIX_FLAGS,
] as const

function row(flag: string, what: string): string {
  return `  ${flag.padEnd(36)}${what}`
}

export const HELP = `Usage: pyp2p-bootstrap-server [options]

The pyp2p rendezvous (bootstrap) server: node lists, NAT source-port checks, dial-back reachability
checks and TCP hole-punch coordination (protocol PYP2P/1). It also serves the @pyp2p/dht-msg message
relay (PYP2P-MSG/1, for reverse connect) on the same port, unless --no-relay is given: point a node's
relay (dhtNode) at this server's address.

Options:
${row('--host <addr>', `address to listen on (default ${C.DEFAULT_HOST})`)}
${row('--port <n>', `port to listen on, 0 = any free port (default ${C.DEFAULT_PORT})`)}
${row('--json', 'log JSON lines instead of human-readable lines')}
${row('--log-level <level>', 'debug | info | warn | error (default info)')}
${row('--allow-loopback', 'hand out 127.0.0.0/8 and ::1 nodes (default: only when listening on loopback)')}
${row('--no-relay', 'do not serve the embedded dht-msg relay (default: served on the same port)')}
${row('--no-circuit-relay', 'do not serve the embedded circuit relay (default: served on the same port)')}
${row('--no-bootstrap-simultaneous', 'BOOTSTRAP lists passive nodes only (default: simultaneous ones too)')}
${row('--allow-unsigned', 'serve v1 clients without keys; their entries are marked unproven (default: off)')}
${row('--server-id <id>', 'id proofs are bound to, e.g. the public host:port (default: random)')}
${row('--redis <url>', 'redis://host:port: instances sharing it are one network (default: $REDIS_URL, else none)')}
${NUMERIC.map(([flag, , def, what]) => row(`--${flag} <n>`, `${what} (default ${def})`)).join('\n')}
${row('-h, --help', 'show this help')}

Prints "listening on <host>:<port>" once ready. SIGINT/SIGTERM shut down gracefully (exit 0).`

export interface CliIo {
  readonly stdout: { write(s: string): unknown }
  readonly stderr: { write(s: string): unknown }
}

/** Parses argv into server options; throws `ERR_INVALID_OPTION` with a message for the user. */
export function parseCliArgs(argv: readonly string[]): {
  help: boolean
  json: boolean
  level: LogLevel
  options: BootstrapServerOptions
} {
  const numeric = Object.fromEntries(NUMERIC.map(([flag]) => [flag, { type: 'string' as const }]))
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        json: { type: 'boolean' },
        'log-level': { type: 'string' },
        'allow-loopback': { type: 'boolean' },
        'no-relay': { type: 'boolean' },
        'no-circuit-relay': { type: 'boolean' },
        'no-bootstrap-simultaneous': { type: 'boolean' },
        'allow-unsigned': { type: 'boolean' },
        'server-id': { type: 'string' },
        redis: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...numeric,
      },
    })
  } catch (error) {
    throw new BootstrapServerError('ERR_INVALID_OPTION', (error as Error).message, { cause: error })
  }
  const v = parsed.values as Record<string, string | boolean | undefined>
  const toInt = (flag: string): number | undefined => {
    const raw = v[flag]
    if (raw === undefined) return undefined
    if (typeof raw !== 'string' || !/^[0-9]{1,15}$/.test(raw)) {
      throw BootstrapServerError.INVALID_OPTION(`--${flag}`, raw, 'a non-negative integer')
    }
    return Number(raw)
  }
  const level = (v['log-level'] ?? 'info') as string
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw BootstrapServerError.INVALID_OPTION('--log-level', level, 'debug, info, warn or error')
  }
  const options: Record<string, unknown> = {}
  if (typeof v.host === 'string') options.host = v.host
  const port = toInt('port')
  if (port !== undefined) options.port = port
  if (v['allow-loopback'] === true) options.allowLoopback = true
  if (v['no-relay'] === true) options.relay = false
  if (v['no-circuit-relay'] === true) options.circuitRelay = false
  if (v['no-bootstrap-simultaneous'] === true) options.bootstrapSimultaneous = false
  if (v['allow-unsigned'] === true) options.allowUnsigned = true
  if (typeof v['server-id'] === 'string') options.serverId = v['server-id']
  if (typeof v.redis === 'string') options.redis = v.redis
  for (const [flag, key] of NUMERIC) {
    const n = toInt(flag)
    if (n !== undefined) options[key] = n
  }
  return { help: v.help === true, json: v.json === true, level: level as LogLevel, options }
}

/**
 * Runs the CLI until a signal stops it. Resolves with the exit code. `signals` lets tests and embedders
 * replace process signals with their own emitter.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo = process,
  signals: NodeJS.EventEmitter = process,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>
  try {
    args = parseCliArgs(argv)
    // `--redis` wins over REDIS_URL; an empty REDIS_URL counts as unset.
    const redisUrl = env.REDIS_URL
    if (args.options.redis === undefined && redisUrl !== undefined && redisUrl !== '') {
      args = { ...args, options: { ...args.options, redis: redisUrl } }
    }
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${HELP}\n`)
    return 2
  }
  if (args.help) {
    io.stdout.write(`${HELP}\n`)
    return 0
  }
  const logger = createStreamLogger({ stream: io.stdout, json: args.json, level: args.level })
  let server: BootstrapServer
  try {
    server = new BootstrapServer({ ...args.options, logger })
  } catch (error) {
    logger.error((error as Error).message, { code: (error as BootstrapServerError).code })
    return 2
  }
  // Handlers go in before listening: a signal right after the "listening" line must not kill us.
  let resolveExit!: (code: number) => void
  const exit = new Promise<number>((resolve) => {
    resolveExit = resolve
  })
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn('second signal: exiting now', { signal })
      resolveExit(1)
      return
    }
    stopping = true
    logger.info('shutting down', { signal, ...server.stats() })
    server.close().then(
      () => resolveExit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: (error as Error).message })
        resolveExit(1)
      },
    )
  }
  const onInt = (): void => stop('SIGINT')
  const onTerm = (): void => stop('SIGTERM')
  signals.on('SIGINT', onInt)
  signals.on('SIGTERM', onTerm)
  try {
    await server.listen()
  } catch (error) {
    if (!stopping) {
      const code = (error as BootstrapServerError).code
      logger.error((error as Error).message, { code })
      // Redis unreachable at start is a configuration error, like a bad URL: exit 2.
      resolveExit(code === 'ERR_REDIS_UNAVAILABLE' ? 2 : 1)
    }
  }
  const code = await exit
  signals.off('SIGINT', onInt)
  signals.off('SIGTERM', onTerm)
  return code
}
