/**
 * Shared output for every benchmark in this package: a plain-text table for humans and a JSON file
 * under `bench/results/<name>.json` for machines (and for comparing runs).
 *
 * ```ts
 * import { printTable, writeResults } from './report.js'
 * const rows = [{ impl: 'pyp2p', lineBytes: 16, linesPerSec: 1.2e6 }]
 * printTable('framing, lines/s', rows)
 * const file = await writeResults('framing', rows) // -> bench/results/framing.json
 * ```
 *
 * The signatures of `printTable` and `writeResults` are stable: other benchmarks import them.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One table row: column name to value. Columns are the union of all rows' keys, in first-seen order. */
export type Row = Readonly<Record<string, unknown>>

/** `bench/results`, found from this file's location so it works from any working directory. */
export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results')

/** Formats one cell: numbers get thousands separators and at most 3 significant decimals. */
export function formatCell(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return String(value)
    if (Number.isInteger(value)) return value.toLocaleString('en-US')
    const abs = Math.abs(value)
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3
    return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
  }
  if (typeof value === 'string') return value
  return JSON.stringify(value)
}

/**
 * Prints `rows` as an aligned table under `title` on stdout. Numeric columns are right-aligned.
 * An empty `rows` prints the title and `(no rows)`.
 */
export function printTable(title: string, rows: readonly Row[]): void {
  const out: string[] = [`\n${title}`]
  if (rows.length === 0) {
    out.push('(no rows)')
    console.log(out.join('\n'))
    return
  }
  const columns: string[] = []
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key)
  const numeric = columns.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number'))
  const cells = rows.map((r) => columns.map((c) => formatCell(r[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((line) => line[i]?.length ?? 0)))
  const fmt = (line: readonly string[]): string =>
    line
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  out.push(fmt(columns), widths.map((w) => '-'.repeat(w)).join('  '))
  for (const line of cells) out.push(fmt(line))
  console.log(out.join('\n'))
}

/**
 * Writes `data` as pretty JSON to `bench/results/<name>.json` (creating the directory) and returns the
 * file's path. `name` must be a plain file name: letters, digits, `.`, `_` and `-`.
 */
export async function writeResults(name: string, data: unknown): Promise<string> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new TypeError(`writeResults: invalid result name ${JSON.stringify(name)} (use [A-Za-z0-9._-])`)
  }
  await mkdir(RESULTS_DIR, { recursive: true })
  const file = join(RESULTS_DIR, `${name}.json`)
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`)
  return file
}
