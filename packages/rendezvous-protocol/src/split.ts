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
