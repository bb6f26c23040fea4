/**
 * The NAT matrix in the NAT lab (@pyp2p/netlab): the topology of packages/net/test/matrix.lab.test.ts
 * (fixtures/matrix-lab.ts): a bootstrap server with the message relay and the circuit relay embedded,
 * and on each of two sides one `Net` node per kind: public, cone + UPnP (miniupnpd IGD2 + NAT-PMP),
 * cone `drop`, cone `rst`, symmetric `drop`, symmetric `rst` (`symrst`): 36 ordered pairs, every one
 * expected to connect (pairs with no other method, and punches that miss, by the circuit relay, issue
 * 14; relayed throughput vs direct in the lab: matrix-throughput.ts, and on loopback bench:relay). For every ordered pair (side a dials side b) `--trials` times `net.unl.connect(theirUnl)`,
 * timing from the command to the first line received from the peer (the peer greets every connection),
 * then closing the connection. Nodes are started once (start, NAT detection and port mapping are not in
 * the times); trials run one after the other so they do not share the CPU.
 *
 *   npm run bench:matrix -- [--trials 10] [--cell public:drop] [--net-type both|direct|p2p] [--reverse-budget 5] [--plain] [--no-throughput] [--debug]
 *
 * `--net-type both` (the default) runs the matrix in a `direct` net, then again with fresh nodes in a
 * `p2p` net (the Net default), and prints each dialler's p2p row beside its direct row: since issue 18
 * a p2p net punches too, so both should show the same methods. Reverse trials past `--reverse-budget`
 * (default @pyp2p/unl's REVERSE_PER_SENDER, 5 per sender per minute, which targets enforce) use a fresh
 * dialler on the same host.
 *
 * Prints a table (rows: dialler and net type, columns: target; each cell the method and the median time
 * to the first line, or the failure code) and one row per cell with success counts and p50/p95 of both
 * times. Writes bench/results/matrix.json.
 */
import { parseArgs } from 'node:util'
import { createLab } from '@pyp2p/netlab'
import {
  attempt,
  cellOf,
  expectedCell,
  KINDS,
  type Kind,
  type Matrix,
  type MatrixNode,
  matrixSpec,
  type Outcome,
  REVERSE_PER_SENDER,
  REVERSE_TOTAL,
  SIDES,
  startMatrix,
  startNode,
  stopMatrix,
} from '../../packages/net/test/fixtures/matrix-lab.js'
import { type FloodRow, relayThroughput } from './matrix-throughput.js'
import { printTable, writeResults } from './report.js'

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    cell: { type: 'string' },
    'reverse-budget': { type: 'string', default: String(REVERSE_PER_SENDER) },
    'net-type': { type: 'string', default: 'both' },
    debug: { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
  },
})
/** `--plain`: every node with `secure: false` (plain lines, as before the secure handshake), to time
 * the pipeline without the handshake against an older build. */
const netOptions = (netType: 'direct' | 'p2p') => ({ netType, ...(values.plain ? { secure: false } : {}) })
const TRIALS = Number(values.trials)
if (!Number.isSafeInteger(TRIALS) || TRIALS < 1) throw new TypeError('--trials must be a positive integer')
/** Reverse requests one dialler sends one target before the bench starts a fresh dialler. */
const REVERSE_BUDGET = Number(values['reverse-budget'])
if (!Number.isSafeInteger(REVERSE_BUDGET) || REVERSE_BUDGET < 1)
  throw new TypeError('--reverse-budget must be a positive integer')
const NET_TYPE = values['net-type']
if (NET_TYPE !== 'direct' && NET_TYPE !== 'p2p' && NET_TYPE !== 'both')
  throw new TypeError('--net-type must be both, direct or p2p')
const NET_TYPES = NET_TYPE === 'both' ? (['direct', 'p2p'] as const) : ([NET_TYPE] as const)
/** Line sizes and counts of the throughput table (each a few hundred KiB to 8 MiB on the lab links). */
const THROUGHPUT_SIZES = [
  { bytes: 100, lines: 50_000 },
  { bytes: 4096, lines: 2_000 },
]
const ONLY = values.cell?.split(':') as [Kind, Kind] | undefined
if (ONLY !== undefined && !(ONLY.length === 2 && ONLY.every((k) => (KINDS as readonly string[]).includes(k))))
  throw new TypeError(`--cell must be <dialler>:<target>, each one of ${KINDS.join(', ')}`)
// Two passive diallers (public, UPnP) send reverse requests to each target.
if (2 * TRIALS > REVERSE_TOTAL)
  console.warn(`more than ${REVERSE_TOTAL / 2} trials: reverse cells exceed the targets' REVERSE_TOTAL`)

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}
const round = (x: number | undefined): number | undefined =>
  x === undefined ? undefined : Math.round(x * 10) / 10

const lab = await createLab(matrixSpec())
let matrix: Matrix | undefined
const extra: MatrixNode[] = []

/** The matrix in one kind of net, on fresh nodes: their start reports, the table rows and the cells. */
async function run(netType: 'direct' | 'p2p') {
  const t0 = performance.now()
  matrix = await startMatrix(lab, { debug: values.debug, net: netOptions(netType) })
  const startMs = performance.now() - t0
  const nodes = SIDES.flatMap((side) =>
    KINDS.map((kind) => {
      const { report } = matrix!.nodes[side][kind]
      return {
        net: netType,
        node: `${kind}/${side}`,
        nodeType: report.nodeType,
        natType: report.natType,
        forwarding: report.forwarding,
        reachability: report.reachability,
        wanAddress: report.wanAddress,
        startMs: round(report.durationMs),
      }
    }),
  )
  printTable(
    `${netType} net: nodes after start() (all twelve started in ${Math.round(startMs)} ms, a side at a time)`,
    nodes,
  )

  const grid: Record<string, unknown>[] = []
  const cells: Record<string, unknown>[] = []
  let freshDiallers = 0
  for (const from of KINDS) {
    const row: Record<string, unknown> = { 'dialler \\ target': `${from} (${netType})` }
    for (const to of KINDS) {
      if (ONLY !== undefined && (ONLY[0] !== from || ONLY[1] !== to)) continue
      let dialler = matrix.nodes.a[from]
      const target = matrix.nodes.b[to]
      const outcomes: Outcome[] = []
      const expected = new Set<string>()
      let reverseSent = 0
      for (let i = 0; i < TRIALS; i++) {
        // The target acts on REVERSE_PER_SENDER requests per sender per minute: a reverse trial past
        // that would time the rate limit, not the method. A fresh node on the same host is a new sender
        // (between two passive nodes it may also be the other role: the master dials, see expectedCell).
        if (expectedCell(dialler, target) === 'reverse' && reverseSent >= REVERSE_BUDGET) {
          dialler = await startNode(lab, matrix.server, dialler, {
            debug: values.debug,
            net: netOptions(netType),
          })
          extra.push(dialler)
          freshDiallers++
          reverseSent = 0
        }
        expected.add(expectedCell(dialler, target))
        if (expectedCell(dialler, target) === 'reverse') reverseSent++
        outcomes.push(await attempt(dialler, target, { close: true }))
      }
      const counts: Record<string, number> = {}
      for (const o of outcomes) counts[cellOf(o)] = (counts[cellOf(o)] ?? 0) + 1
      const ok = outcomes.filter((o) => o.ok)
      const first = ok.map((o) => o.firstLineMs).sort((x, y) => x - y)
      const connect = ok.map((o) => o.connectMs).sort((x, y) => x - y)
      const failed = outcomes.filter((o) => !o.ok)
      // Per method that connected (most used first; two passive nodes use both, see expectedCell): its
      // median time to the first line. A cell where nothing connected shows the failure codes.
      const byMethod: Record<string, { n: number; firstLineP50Ms: number | undefined }> = {}
      for (const [method, n] of Object.entries(counts).sort((x, y) => y[1] - x[1])) {
        if (method.startsWith('fail:')) continue
        const times = ok.filter((o) => o.ok && o.method === method).map((o) => (o.ok ? o.firstLineMs : 0))
        byMethod[method] = {
          n,
          firstLineP50Ms: round(
            percentile(
              times.sort((x, y) => x - y),
              50,
            ),
          ),
        }
      }
      const failures = Object.keys(counts).filter((k) => k.startsWith('fail:'))
      const connected = Object.entries(byMethod).map(([m, b]) => `${m} ${b.firstLineP50Ms} ms`)
      row[to] =
        connected.length === 0
          ? failures.map((f) => f.slice(5)).join('/')
          : `${connected.join(', ')}${failed.length > 0 ? ` (${ok.length}/${TRIALS} ok)` : ''}`
      cells.push({
        net: netType,
        from,
        to,
        expected: [...expected].join('/'),
        outcomes: counts,
        byMethod,
        ok: ok.length,
        trials: TRIALS,
        firstLineP50Ms: round(percentile(first, 50)),
        firstLineP95Ms: round(percentile(first, 95)),
        connectP50Ms: round(percentile(connect, 50)),
        connectP95Ms: round(percentile(connect, 95)),
        failureP50Ms: round(
          percentile(
            failed.map((o) => o.elapsedMs).sort((x, y) => x - y),
            50,
          ),
        ),
        failure: failed[0]?.message,
      })
    }
    if (Object.keys(row).length > 1) grid.push(row)
  }
  // Relayed throughput vs direct, in the lab (issue 14): once, in the direct net, on the matrix's nodes.
  let throughput: FloodRow[] = []
  if (netType === 'direct' && !values['no-throughput'] && ONLY === undefined) {
    throughput = await relayThroughput(matrix, THROUGHPUT_SIZES)
  }
  await stopMatrix(matrix, extra.splice(0))
  matrix = undefined
  return { nodes, grid, cells, freshDiallers, throughput }
}

try {
  const runs: Awaited<ReturnType<typeof run>>[] = []
  for (const netType of NET_TYPES) runs.push(await run(netType))
  // Each dialler's rows side by side: direct, then p2p.
  const grid = KINDS.flatMap((from) =>
    runs.map((r) => r.grid.find((row) => String(row['dialler \\ target']).startsWith(`${from} (`))),
  ).filter((row) => row !== undefined)
  const cells = runs.flatMap((r) => r.cells)
  const freshDiallers = runs.reduce((n, r) => n + r.freshDiallers, 0)
  printTable(
    `NAT matrix (${NET_TYPES.join(' and ')} net): method and median time from unl.connect() to the first line, ${TRIALS} trials per cell` +
      ` (${freshDiallers} fresh diallers for reverse trials past ${REVERSE_BUDGET} per pair)`,
    grid,
  )
  printTable(
    'per cell',
    cells.map(({ failure: _f, byMethod: _b, outcomes, ...c }) => ({
      ...c,
      outcomes: JSON.stringify(outcomes),
    })),
  )
  const throughput = runs.flatMap((r) => r.throughput)
  if (throughput.length > 0) {
    printTable(
      'relayed vs direct in the lab: lines/s over one connection from the symmetric node (direct: to the public node; relay: to the other symmetric node)',
      throughput,
    )
  }
  const file = await writeResults('matrix', {
    date: new Date().toISOString(),
    trials: TRIALS,
    netTypes: NET_TYPES,
    reverseBudget: REVERSE_BUDGET,
    plain: values.plain,
    freshDiallers,
    note: 'rows dial columns (side a -> side b); times in ms from the connect command to the first line received',
    nodes: runs.flatMap((r) => r.nodes),
    grid,
    cells,
    throughput,
  })
  console.log(`\nwrote ${file}`)
} finally {
  await stopMatrix(matrix, extra)
  await lab.close()
}
