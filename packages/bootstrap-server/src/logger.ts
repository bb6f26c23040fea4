/**
 * A small structured logger: a message plus flat fields. The library default writes through `debug`
 * (`pyp2p:bootstrap-server`, silent unless `DEBUG` enables it); the CLI writes human lines or JSON lines
 * to a stream.
 */
import createDebug from 'debug'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
/** Flat values; an object or array (such as `stats().limits`) is written as JSON. */
export type LogFields = Readonly<Record<string, string | number | boolean | undefined | object>>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

function human(fields: LogFields | undefined): string {
  if (fields === undefined) return ''
  let out = ''
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    const s = typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)
    out += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`
  }
  return out
}

/** The library default: every level goes to the `pyp2p:bootstrap-server` debug namespace. */
export function createDebugLogger(namespace = 'pyp2p:bootstrap-server'): Logger {
  const log = createDebug(namespace)
  const write = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (log.enabled) log('%s %s%s', level, msg, human(fields))
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}

export interface StreamLoggerOptions {
  /** Where lines go. */
  readonly stream: { write(chunk: string): unknown }
  /** JSON lines (`{"time":...,"level":"info","msg":"listening",...}`) instead of human lines. */
  readonly json?: boolean
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel
  /** Clock, for tests. */
  readonly now?: () => Date
}

/** A logger for the CLI: one line per entry, human (`<time> INFO msg k=v`) or JSON. */
export function createStreamLogger(options: StreamLoggerOptions): Logger {
  const min = LEVELS[options.level ?? 'info']
  const now = options.now ?? (() => new Date())
  const write = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return
    const time = now().toISOString()
    const line = options.json
      ? JSON.stringify({ time, level, msg, ...fields })
      : `${time} ${level.toUpperCase()} ${msg}${human(fields)}`
    options.stream.write(`${line}\n`)
  }
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') }
}
