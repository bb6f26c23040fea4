/** Splitting a line into words, shared by both parsers. */
import { RendezvousProtocolError } from './errors.js'

/** Words separated by runs of spaces or tabs; leading and trailing blanks are ignored. */
export function splitWords(line: string): string[] {
  const trimmed = line.replace(/^[ \t]+|[ \t]+$/g, '')
  return trimmed === '' ? [] : trimmed.split(/[ \t]+/)
}

/**
 * Checks the line before any other work: a string, no longer than `limit`, without CR or LF inside
 * (a framing layer strips the terminator). Throws the typed error otherwise.
 */
export function checkLine(line: unknown, limit: number): asserts line is string {
  if (typeof line !== 'string') {
    throw RendezvousProtocolError.MALFORMED('line', `expected a string, got ${typeof line}`, '')
  }
  if (line.length > limit) throw RendezvousProtocolError.LINE_TOO_LONG(line.length, limit)
  if (line.includes('\r') || line.includes('\n')) {
    throw RendezvousProtocolError.MALFORMED(
      'line',
      'contains CR or LF; pass one line without its terminator',
      line,
    )
  }
}

/** A checked line split into words, with the two error helpers every command's case needs. */
export interface LineParse {
  words: string[]
  command: string | undefined
  /** a MALFORMED error naming the command, what was wrong, and the line */
  bad(what: string): RendezvousProtocolError
  /** throws `bad(...)` unless the line has exactly `n` words (the command included) */
  arity(n: number): void
}

/** The common start of both parsers: check the line against `limit`, split it, and name the command. */
export function startParse(line: string, limit: number): LineParse {
  checkLine(line, limit)
  const words = splitWords(line)
  const command = words[0]
  const bad = (what: string): RendezvousProtocolError =>
    RendezvousProtocolError.MALFORMED(command ?? '', what, line)
  const arity = (n: number): void => {
    if (words.length !== n)
      throw bad(`expected ${n - 1} argument${n === 2 ? '' : 's'}, got ${words.length - 1}`)
  }
  return { words, command, bad, arity }
}
