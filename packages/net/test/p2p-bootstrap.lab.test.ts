/**
 * Issue 18's bootstrap proof on its own lab: ten simultaneous nodes behind five cone routers (two
 * behind each; four routers drop unsolicited SYNs, one resets them) call `bootstrap()` once, at the
 * same moment, in a `p2p` net: forty punches between routers and five reverse connects (two nodes
 * behind one router) run at once. After that single round every node holds one connection to each of
 * the nine others, and both ends of each pair hold the same one.
 *
 * Two trials by default, one after the other in the same lab (fresh nodes, the same server and
 * routers): the case that hung when run after the NAT matrix (issue 18) was a connect that waited for
 * its whole deadline, so beside "settled" every trial asserts that no node's bootstrap() connect ended
 * at its deadline (each end is logged by `pyp2p:net`). `P2P_TRIALS=<n>` repeats it n times (for the
 * repeated-run figures); every trial must settle after its single round.
 */
import { writeFileSync } from 'node:fs'
import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Event,
  type Kind,
  type MatrixNode,
  netOptions,
  type Side,
  type StartReport,
  startServer,
  stopMatrix,
} from './fixtures/matrix-lab.js'

const ready = await labReadiness()
const TRIALS = Number(process.env.P2P_TRIALS ?? '2')
/** Upper bound for one trial to settle once every node said `bootstrapped`: turns a miss into a failure. */
const SETTLE_MS = 30_000
/**
 * Upper bound of a node's start and of its bootstrap(): ten nodes compile and start at once on two
 * shared cores, which under the load of other work takes longer than the matrix's 30 s bound.
 */
const STEP_MS = 120_000
const NET_NODE = new URL('./fixtures/net-node.ts', import.meta.url).pathname

const parse = (l: string): Event | undefined => {
  if (!l.startsWith('{')) return undefined
  try {
    return JSON.parse(l) as Event
  } catch {
    return undefined
  }
}

/** The first event of `n` that matches, within STEP_MS (with the node's output when it fails). */
async function waitFor(n: MatrixNode, match: (e: Event) => boolean, what: string): Promise<Event> {
  try {
    const line = await n.proc.waitForLine(
      (l) => {
        const e = parse(l)
        return e !== undefined && match(e)
      },
      { timeout: STEP_MS },
    )
    return parse(line)!
  } catch (err) {
    const out = `${n.proc.stdout().slice(-2000)}\n${n.proc.stderr().slice(-2000)}`
    throw new Error(`${n.host}: ${what}: ${(err as Error).message}\n${out}`)
  }
}

/** A simultaneous `Net` in a p2p net on `host` (fixtures/net-node.ts), started and advertised. */
async function startNode(
  lab: Lab,
  server: string,
  host: string,
  kind: Kind,
  side: Side,
): Promise<MatrixNode> {
  // No circuit-relay fallback: a pair whose punch failed must show as missing, not as a relay circuit.
  const options = { ...netOptions(server), netType: 'p2p', enableForwarding: false, circuitRelay: false }
  // pyp2p:net logs how each bootstrap() connect ended (asserted below); P2P_DEBUG=1: everything.
  const debug = { env: { DEBUG: process.env.P2P_DEBUG === '1' ? 'pyp2p:*' : 'pyp2p:net' } }
  const proc = lab.spawnNode(
    host,
    NET_NODE,
    [JSON.stringify(options), JSON.stringify({ greet: true })],
    debug,
  )
  const n = { kind, side, host, proc, report: {} as StartReport, nodeId: '', unl: '', listed: false }
  const started = await waitFor(n, (e) => e.event === 'started' || e.event === 'error', 'start')
  if (started.event !== 'started') throw new Error(`${host} failed to start: ${JSON.stringify(started)}`)
  n.report = started.report as StartReport
  n.nodeId = n.report.nodeId
  n.unl = n.report.unl
  proc.write(`${JSON.stringify({ cmd: 'advertise' })}\n`)
  const adv = await waitFor(n, (e) => e.event === 'advertised' || e.event === 'error', 'advertise')
  n.listed = adv.listed === true
  return n
}

/** A node's `pyp2p:net` lines saying a bootstrap() connect ended at its deadline (ERR_CONNECT_TIMEOUT). */
function deadlineEnds(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /bootstrap: .* not reachable: Could not connect within/.test(l))
}

/** Five predictable routers (the matrix's twins): two hosts behind each. */
const ROUTERS: readonly (readonly [Kind, Side, 'drop' | 'rst'])[] = [
  ['drop', 'a', 'drop'],
  ['drop', 'b', 'drop'],
  ['upnp', 'a', 'drop'],
  ['upnp', 'b', 'drop'],
  ['rst', 'a', 'rst'],
]

interface Live {
  nodeId: string
  method: string
  initiator: string
}

/** A node's live connections, from its `connection` and `disconnect` events. */
function live(n: MatrixNode): Live[] {
  const cons = new Map<string, Live>()
  for (const line of n.proc.stdout().split('\n')) {
    if (!line.startsWith('{')) continue
    const e = JSON.parse(line) as Event
    const info = e.info as (Live & { host: string; port: number; since: number }) | undefined
    if (info === undefined) continue
    const key = `${info.nodeId} ${info.host}:${info.port} ${info.since}`
    if (e.event === 'connection') cons.set(key, info)
    if (e.event === 'disconnect') cons.delete(key)
  }
  return [...cons.values()]
}

/** What keeps the net from being settled: a missing or duplicate connection, or ends that disagree. */
function problems(nodes: readonly MatrixNode[]): string[] {
  const out: string[] = []
  for (const n of nodes) {
    for (const o of nodes) {
      if (o === n) continue
      const mine = live(n).filter((p) => p.nodeId === o.nodeId)
      const theirs = live(o).filter((q) => q.nodeId === n.nodeId)
      if (mine.length !== 1) out.push(`${n.host} has ${mine.length} connections to ${o.host}`)
      else if (theirs.length === 1 && mine[0]!.initiator === theirs[0]!.initiator)
        out.push(`${n.host} and ${o.host} kept different connections`)
    }
  }
  return out
}

describe.skipIf(!ready.ok)('a p2p net: ten simultaneous nodes bootstrap once and all connect', () => {
  let lab: Lab | undefined
  let server = ''
  let nodes: MatrixNode[] = []

  beforeAll(async () => {
    const routers: Record<string, { nat: 'cone'; inbound: 'drop' | 'rst' }> = {}
    const hosts: Record<string, { router: string }> = {}
    for (const [kind, side, inbound] of ROUTERS) {
      routers[`r_${kind}_${side}`] = { nat: 'cone', inbound }
      hosts[`${kind}_${side}`] = { router: `r_${kind}_${side}` }
      hosts[`twin_${kind}_${side}`] = { router: `r_${kind}_${side}` }
    }
    lab = await createLab({ publicHosts: { server: {} }, routers, hosts })
    server = (await startServer(lab)).server
  }, 90_000)

  afterAll(async () => {
    await stopMatrix(undefined, nodes)
    await lab?.close()
  }, 30_000)

  it(
    `one bootstrap() round connects every pair, one connection per pair (${TRIALS} trial(s))`,
    async () => {
      const router = (n: MatrixNode): string => `${n.kind}_${n.side}`
      const missed: string[] = []
      /** With P2P_LOG_DIR: every node's output, written there (a debugging aid). */
      let cleanup = (): void => {}
      for (let trial = 1; trial <= TRIALS; trial++) {
        if (trial > 1) {
          // The routers forget the last trial's connections, as after a pause: once (2026-12-05,
          // without this) a node of trial 2 detected its cone NAT as random and started active,
          // most likely its ports remapped where they met the ~85 entries the last trial left.
          for (const [kind, side] of ROUTERS) {
            const r = `r_${kind}_${side}`
            const left = (await lab!.conntrack(r)).length
            const flush = await lab!.exec(r, ['conntrack', '-F'])
            expect(flush.code, `${r}: conntrack -F: ${flush.stderr}`).toBe(0)
            console.log(`trial ${trial}: ${r} forgot ${left} conntrack entries`)
          }
        }
        nodes = await Promise.all(
          ROUTERS.flatMap(([kind, side]) => [
            startNode(lab!, server, `${kind}_${side}`, kind, side),
            startNode(lab!, server, `twin_${kind}_${side}`, kind, side),
          ]),
        )
        for (const n of nodes) expect(n.report.nodeType, n.report.reasons.join('; ')).toBe('simultaneous')
        for (const n of nodes) n.proc.write(`${JSON.stringify({ cmd: 'bootstrap' })}\n`)
        const logDir = process.env.P2P_LOG_DIR
        if (logDir !== undefined) {
          const save = (): void => {
            for (const n of nodes)
              writeFileSync(`${logDir}/${trial}-${n.host}.log`, n.proc.stdout() + n.proc.stderr())
          }
          const every = setInterval(save, 5_000)
          cleanup = () => {
            clearInterval(every)
            save()
          }
        }
        const done = await Promise.all(
          nodes.map((n) =>
            waitFor(
              n,
              (e) => e.event === 'bootstrapped' || (e.event === 'error' && e.cmd === 'bootstrap'),
              'bootstrap',
            ),
          ),
        ).finally(() => cleanup())
        for (const d of done) expect(d.event).toBe('bootstrapped')
        // No connect of any bootstrap() used up its deadline (a wait nothing would end: issue 18).
        const burnt = nodes.flatMap((n) =>
          deadlineEnds(n.proc.stderr()).map((l) => `${n.host}: ${l.slice(0, 300)}`),
        )
        expect(burnt, burnt.join('\n')).toEqual([])
        // Settled: checked whenever any node prints a line (connection, disconnect), until it holds.
        const bound = new AbortController()
        const settled = await Promise.any(
          nodes.map((n) =>
            n.proc.waitForLine(() => problems(nodes).length === 0, {
              timeout: SETTLE_MS,
              signal: bound.signal,
            }),
          ),
        ).then(
          () => true,
          () => problems(nodes).length === 0,
        )
        bound.abort()
        cleanup()
        const left = problems(nodes)
        console.log(
          `p2p bootstrap trial ${trial}/${TRIALS}: ${settled ? 'settled' : `NOT settled: ${left.join('; ')}`}`,
        )
        if (!settled) {
          const log = nodes.flatMap((n) =>
            n.proc
              .stderr()
              .split('\n')
              .filter((l) => /refused|failed|not reachable|declined|connected to|punched/.test(l))
              .map((l) => `${n.host}: ${l}`),
          )
          missed.push(
            `trial ${trial}: not settled after one bootstrap(): ${left.join('; ')}\n${log.join('\n')}`,
          )
          await stopMatrix(undefined, nodes.splice(0))
          continue
        }
        // Punched between routers, reverse connect behind one (no other method, e.g. a relay circuit,
        // stood in for a punch that failed), and both ends agree on who asked.
        const wrong: string[] = []
        for (const n of nodes) {
          const peers = live(n)
          const others = nodes.filter((o) => o !== n)
          expect(peers.map((p) => p.nodeId).sort(), n.host).toEqual(others.map((o) => o.nodeId).sort())
          for (const p of peers) {
            const o = nodes.find((x) => x.nodeId === p.nodeId)!
            const method = router(o) === router(n) ? 'reverse' : 'punch'
            if (p.method !== method) wrong.push(`${n.host} -> ${o.host}: ${p.method}, not ${method}`)
            const back = live(o).find((q) => q.nodeId === n.nodeId)!
            expect([p.initiator, back.initiator].sort(), `${n.host} <-> ${o.host}`).toEqual([
              'local',
              'remote',
            ])
          }
        }
        console.log(
          `p2p bootstrap trial ${trial}/${TRIALS}: methods ${wrong.length === 0 ? 'as expected' : wrong.join('; ')}`,
        )
        if (wrong.length > 0) missed.push(`trial ${trial}: ${wrong.join('; ')}`)
        await stopMatrix(undefined, nodes.splice(0))
      }
      console.log(
        `p2p bootstrap: ${TRIALS - missed.length}/${TRIALS} trials all connected by the expected method after one round`,
      )
      expect(missed, missed.join('\n\n')).toEqual([])
    },
    60_000 + TRIALS * 120_000,
  )
})
