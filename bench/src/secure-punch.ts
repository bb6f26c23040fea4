/**
 * Time to the first line through a hole punch in the NAT lab, plain vs secure, for bench/src/secure.ts.
 * The NAT matrix's fixtures (packages/net/test/fixtures/matrix-lab.ts): a bootstrap server (with its
 * relay) on the lab's internet and, on each side, a `Net` node behind a port-preserving router that
 * drops unsolicited SYNs (both become simultaneous nodes, so `unl.connect()` punches). Per mode, fresh
 * nodes (`secure: false` on both, or the default) and `trials` connects from side a to side b, each timed
 * from the command to the first line the target sends (it greets every connection), then closed. A
 * trial whose first line is not that greeting fails (a mode stops after MAX_FAILURES failures).
 */
import { createLab } from '@pyp2p/netlab'
import {
  CONNECT_TIMEOUT_MS,
  type MatrixNode,
  startNode,
  startServer,
  stopMatrix,
  waitEvent,
} from '../../packages/net/test/fixtures/matrix-lab.js'

export interface PunchTimes {
  /** Connects that punched and delivered the first line. */
  ok: number
  /** Connects tried (fewer than asked when a mode stopped after MAX_FAILURES failures). */
  trials: number
  /** Methods seen (other than punch means the lab did not force a punch). */
  methods: string[]
  p50: number
  p99: number
  failures: string[]
}

/** A mode stops after this many failed trials (each can cost a timeout). */
const MAX_FAILURES = 3

let ids = 0

/**
 * `from` connects to `to` and closes once timed: the method and the time to the first line, or why
 * not. The first line must be the target's greeting (`hello <its id>`): anything else is a failure.
 */
async function trial(
  from: MatrixNode,
  to: MatrixNode,
): Promise<{ ok: true; method: string; ms: number } | { ok: false; why: string }> {
  const id = `p${++ids}`
  from.proc.write(
    `${JSON.stringify({ cmd: 'connect', id, unl: to.unl, timeout: CONNECT_TIMEOUT_MS, close: true })}\n`,
  )
  const e = await waitEvent(
    from.proc,
    (x) => x.id === id && (x.event === 'connected' || x.event === 'error'),
    `${from.host} -> ${to.host} (${id})`,
  )
  if (e.event === 'error') return { ok: false, why: String(e.code) }
  if (e.firstLine === `hello ${from.nodeId}` || String(e.firstLine).endsWith(` ${from.nodeId}`)) {
    return { ok: false, why: 'connected to itself: its own line came back' }
  }
  if (e.firstLine !== `hello ${to.nodeId}`) {
    return { ok: false, why: `first line not the greeting but ${String(e.firstLine).split(' ')[0]}` }
  }
  return { ok: true, method: (e.info as { method: string }).method, ms: e.firstLineMs as number }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN
}

export async function punchFirstLine(trials: number): Promise<Record<'plain' | 'secure', PunchTimes>> {
  const lab = await createLab({
    publicHosts: { server: {} },
    routers: { r_drop_a: { nat: 'cone', inbound: 'drop' }, r_drop_b: { nat: 'cone', inbound: 'drop' } },
    hosts: { drop_a: { router: 'r_drop_a' }, drop_b: { router: 'r_drop_b' } },
  })
  const nodes: MatrixNode[] = []
  try {
    const { server } = await startServer(lab)
    const out = {} as Record<'plain' | 'secure', PunchTimes>
    for (const mode of ['plain', 'secure'] as const) {
      const net = { netType: 'direct', secure: mode === 'secure' }
      const a = await startNode(lab, server, { host: 'drop_a', kind: 'drop', side: 'a' }, { net })
      nodes.push(a)
      const b = await startNode(lab, server, { host: 'drop_b', kind: 'drop', side: 'b' }, { net })
      nodes.push(b)
      const times: number[] = []
      const methods = new Set<string>()
      const failures: string[] = []
      for (let i = 0; i < trials && failures.length < MAX_FAILURES; i++) {
        const o = await trial(a, b)
        if (o.ok) {
          methods.add(o.method)
          if (o.method === 'punch') times.push(o.ms)
        } else failures.push(o.why)
      }
      times.sort((x, y) => x - y)
      out[mode] = {
        ok: times.length,
        trials: times.length + failures.length,
        methods: [...methods],
        p50: percentile(times, 0.5),
        p99: percentile(times, 0.99),
        failures,
      }
      await stopMatrix(undefined, nodes.splice(0))
    }
    return out
  } finally {
    await stopMatrix(undefined, nodes)
    await lab.close()
  }
}
