/**
 * Relayed throughput vs direct in the NAT lab, for bench/src/matrix.ts (issue 14): one connection per
 * cell, `lines` lines of `bytes` characters sent as fast as back-pressure allows, timed from the first
 * line sent to the peer's count of what it received (net-node.ts's `flood`). The relayed cell is
 * symmetric -> symmetric (no other method can work, so the connection stays on the circuit); the direct
 * cell is symmetric -> public, the same dialler host and the same lab links minus the relay.
 */
import {
  CONNECT_TIMEOUT_MS,
  type Matrix,
  type MatrixNode,
  waitEvent,
} from '../../packages/net/test/fixtures/matrix-lab.js'

export type FloodRow = {
  lineBytes: number
  lines: number
  directLinesPerSec: number | undefined
  relayLinesPerSec: number | undefined
  ratio: number | undefined
  methods: string
}

let ids = 0

async function flood(from: MatrixNode, to: MatrixNode, lines: number, bytes: number) {
  const id = `flood${++ids}`
  from.proc.write(
    `${JSON.stringify({ cmd: 'connect', id, unl: to.unl, timeout: CONNECT_TIMEOUT_MS, close: true, flood: { lines, bytes } })}\n`,
  )
  const e = await waitEvent(
    from.proc,
    (x) => x.id === id && (x.event === 'connected' || x.event === 'error'),
    `flood ${from.host} -> ${to.host}`,
    120_000,
  )
  if (e.event !== 'connected') return { method: `fail:${String(e.code)}`, linesPerSec: undefined }
  const f = e.flood as { ms: number; received: number }
  const method = String((e.info as { method?: string }).method)
  if (f.received !== lines)
    return { method: `${method} (${f.received}/${lines} received)`, linesPerSec: undefined }
  return { method, linesPerSec: Math.round((lines / f.ms) * 1000) }
}

/** Both cells at each size; the lab's nodes must greet (matrix fixtures do). */
export async function relayThroughput(
  matrix: Matrix,
  sizes: ReadonlyArray<{ bytes: number; lines: number }>,
): Promise<FloodRow[]> {
  const rows: FloodRow[] = []
  const dialler = matrix.nodes.a.symmetric
  for (const { bytes, lines } of sizes) {
    const direct = await flood(dialler, matrix.nodes.b.public, lines, bytes)
    const relay = await flood(dialler, matrix.nodes.b.symmetric, lines, bytes)
    rows.push({
      lineBytes: bytes,
      lines,
      directLinesPerSec: direct.linesPerSec,
      relayLinesPerSec: relay.linesPerSec,
      ratio:
        direct.linesPerSec !== undefined && relay.linesPerSec !== undefined
          ? Math.round((relay.linesPerSec / direct.linesPerSec) * 100) / 100
          : undefined,
      methods: `${direct.method}/${relay.method}`,
    })
  }
  return rows
}
