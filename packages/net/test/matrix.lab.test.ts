/**
 * Proof: the NAT matrix. Twelve `Net` nodes in the NAT lab (fixtures/matrix-lab.ts), six kinds on each
 * side: public, cone + UPnP, cone `drop`, cone `rst`, symmetric `drop` (symmetric), symmetric `rst`
 * (symrst), all started against one bootstrap server (with its message relay and circuit relay) in a
 * `direct` net. Every node of side a dials every node of side b with `net.unl.connect(theirUnl)`, then
 * the other way round: 36 ordered pairs of kinds, each twice. Expected, from first principles (rows
 * dial columns; P = passive: public, or UPnP-mapped; S = simultaneous: a predictable cone NAT;
 * A = active; every node that is not passive holds a reservation at the server's circuit relay):
 *
 *                 public(P)  upnp(P)   drop(S)  rst(S)   symmetric(A)  symrst(A)
 *   public(P)     master*    master*   reverse  reverse  reverse       reverse
 *   upnp(P)       master*    master*   reverse  reverse  reverse       reverse
 *   drop(S)       direct     direct    punch    punch    relay         relay
 *   rst(S)        direct     direct    punch    punch    relay         relay
 *   symmetric(A)  direct     direct    relay    relay    relay         relay
 *   symrst(A)     direct     direct    relay    relay    relay         relay
 *
 *   * both passive: the master of the pair (larger UNL) dials (`direct`), the other asks (`reverse`).
 *   Before issue 14 every `relay` cell was ERR_NO_METHOD. The relay carries only ciphertext: the
 *   end-to-end handshake runs over the circuit (packages/unl/test/relay-connect.test.ts checks the
 *   spliced bytes).
 *
 * Nothing is assumed: each cell is a real connection attempt through real kernel NATs and a real
 * miniupnpd, over links of 5 ms (what reaches a router waits that long), and the target's own view of
 * the connection is checked too. Bounded time: every
 * `unl.connect()` has a 20 s timeout and every wait on a node 30 s, so a broken cell fails, never hangs.
 *
 * Then the same in a `p2p` net (the Net default; issue 18): the same node types and the same methods
 * in every cell (each connection closed before the next cell, since a p2p net keeps one per node), and
 * ten simultaneous nodes behind five routers (two behind each) that bootstrap at the same moment: each
 * ends connected to the nine others, one connection per pair that both ends agree on, punched between
 * routers and made by reverse connect through the relay between two nodes behind the same router (a
 * punch to one's own public address needs hairpin NAT, which the lab's routers, like many, lack).
 */

import { createLab, type Lab, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  attempt,
  cellOf,
  EXPECTED_NODE,
  expectedCell,
  KINDS,
  type Matrix,
  type MatrixNode,
  matrixSpec,
  type Outcome,
  SIDES,
  startMatrix,
  startNode,
  startServer,
  stopMatrix,
  TARGET_VIEW,
  waitEvent,
} from './fixtures/matrix-lab.js'

const ready = await labReadiness()

/**
 * A cell's label, where a punch that missed and was rescued by the relay (last in every plan) counts as
 * the punch cell it is: between two routers that answer unsolicited SYNs with RST a punch meets only
 * when the SYNs cross in flight (@pyp2p/punch's README), and under load it sometimes misses; before
 * issue 14 such a cell failed, now it connects by relay. `fallbacks` collects those cells.
 */
function cellWithFallback(o: Outcome, key: string, fallbacks: string[]): string {
  if (o.ok && o.method === 'relay' && /\(after punch failed\)$/.test(o.reason)) {
    fallbacks.push(key)
    return 'punch'
  }
  return cellOf(o)
}
/** The kinds whose nodes accept connections (EXPECTED_NODE says passive). */
const PASSIVE = KINDS.filter((k) => EXPECTED_NODE[k].nodeType === 'passive')

describe.skipIf(!ready.ok)('the NAT matrix (net.unl.connect between every pair of NAT kinds)', () => {
  let lab: Lab | undefined
  let matrix: Matrix | undefined
  const extra: MatrixNode[] = []
  /** The direct net's cells, for the p2p run to match. */
  let directCells: Record<string, string> | undefined

  beforeAll(async () => {
    // Every router has 5 ms of link latency (netlab's `latencyMs`), as real links do; the lab's own take
    // microseconds, which hid a bug once (NOTES.md). MATRIX_LATENCY_MS=<ms> sets another (0: none).
    lab = await createLab(matrixSpec({ latencyMs: Number(process.env.MATRIX_LATENCY_MS ?? '5') }))
    matrix = await startMatrix(lab, { debug: process.env.MATRIX_DEBUG === '1' })
  }, 400_000)

  afterAll(async () => {
    await stopMatrix(matrix, extra)
    await lab?.close()
  }, 30_000)

  it('every node starts as the kind of node its network makes it', async () => {
    for (const side of SIDES) {
      for (const kind of KINDS) {
        const { report, listed } = matrix!.nodes[side][kind]
        const { forwarding, ...expected } = EXPECTED_NODE[kind]
        const why = `${kind}/${side}: ${report.reasons.join('; ')}`
        expect(report, why).toMatchObject(expected)
        expect(typeof forwarding === 'string' ? [forwarding] : forwarding, why).toContain(report.forwarding)
        // Passive nodes are listed; simultaneous ones register to answer punches; active ones cannot.
        expect(listed).toBe(report.nodeType !== 'active')
      }
    }
    // The UPnP nodes' UNLs carry their routers' WAN addresses, where miniupnpd holds their mappings.
    for (const side of SIDES) {
      const { report } = matrix!.nodes[side].upnp
      expect(report.wanAddress).toBe(lab!.router(`r_upnp_${side}`).wanIp)
      expect(await lab!.upnpMappings(`r_upnp_${side}`)).toContainEqual(
        expect.objectContaining({
          protocol: 'TCP',
          internalIp: lab!.host(`upnp_${side}`).ip,
          internalPort: report.port,
          externalPort: report.externalPort ?? report.port,
        }),
      )
    }
  })

  it('every pair connects by the expected method, or fails with a clear reason in bounded time', async () => {
    const m = matrix!
    const observed: Record<string, string> = {}
    const expected: Record<string, string> = {}
    const fallbacks: string[] = []
    const cells: { key: string; target: MatrixNode; outcome: Outcome }[] = []
    // Side a dials side b, then side b dials side a: every ordered pair of kinds twice, and between
    // two passive nodes both roles (the master dials, the other asks to be dialled). One cell at a
    // time: punches share the server, and a failure names one cell.
    for (const [fromSide, toSide] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      for (const from of KINDS) {
        for (const to of KINDS) {
          const key = `${from}/${fromSide} -> ${to}/${toSide}`
          const dialler = m.nodes[fromSide][from]
          const target = m.nodes[toSide][to]
          const outcome = await attempt(dialler, target)
          cells.push({ key, target, outcome })
          observed[key] = cellWithFallback(outcome, key, fallbacks)
          expected[key] = expectedCell(dialler, target)
        }
      }
    }
    if (process.env.MATRIX_PRINT === '1')
      console.log(
        JSON.stringify(
          cells.map(({ key, outcome }) => ({ key, outcome })),
          null,
          2,
        ),
      )
    if (fallbacks.length > 0)
      console.log(`punch cells connected by relay after the punch failed: ${fallbacks}`)
    expect(observed).toEqual(expected)
    // Every ordered pair of the six kinds connects (36 of 36, each twice: a -> b and b -> a).
    expect(Object.values(observed).filter((c) => c.startsWith('fail:'))).toEqual([])
    expect(Object.keys(observed)).toHaveLength(2 * KINDS.length * KINDS.length)
    directCells = observed
    // Between two passive nodes each direction was used once: the master dialled, the other asked.
    for (const x of PASSIVE) {
      for (const y of PASSIVE) {
        expect(
          new Set([observed[`${x}/a -> ${y}/b`], observed[`${y}/b -> ${x}/a`]]),
          `${x} <-> ${y}`,
        ).toEqual(new Set(['direct', 'reverse']))
      }
    }

    for (const { key, target, outcome: o } of cells) {
      if (o.ok) {
        // The peer's greeting came over the connection, and the target agrees on how it was made.
        expect(o.firstLine, key).toBe(`hello ${target.nodeId}`)
        expect(o.target, key).toEqual(TARGET_VIEW[o.method])
        // A relayed connection names its relay: the bootstrap server's circuit relay.
        if (o.method === 'relay') expect(o.reason, key).toContain(`relay at ${m.server}`)
      } else {
        // A clear reason: a typed code, a message naming every method and why it does not apply.
        expect(o.message, key).toMatch(/direct/)
        expect(o.message, key).toMatch(/reverse/)
        expect(o.message, key).toMatch(/punch/)
        expect(o.attempts.map((a) => a.method).sort(), key).toEqual(['direct', 'punch', 'reverse'])
      }
    }
  }, 300_000)

  it("a punch that cannot work fails with the punch's typed reason, then the circuit relay connects", async () => {
    // A node told it is simultaneous (the nodeType option) although its NAT is symmetric: the plan
    // says punch, and the attempt itself has to fail, cleanly; the relay, last in the plan, connects.
    const forced = await startNode(
      lab!,
      matrix!.server,
      { host: 'forced_a', kind: 'symmetric', side: 'a' },
      { net: { nodeType: 'simultaneous' } },
    )
    extra.push(forced)
    expect(forced.report.nodeType).toBe('simultaneous')
    // The cone node dials: the target detects its own NAT when challenged and declines.
    const declined = await attempt(matrix!.nodes.b.drop, forced)
    // The forced node dials: its own NAT detection says punching cannot work.
    const unpredictable = await attempt(forced, matrix!.nodes.b.rst)
    for (const o of [declined, unpredictable]) {
      expect(o).toMatchObject({ ok: true, method: 'relay', target: TARGET_VIEW.relay })
      if (!o.ok) continue
      expect(o.reason).toMatch(/\(after punch failed\)$/)
    }
    // With the relay off at the dialler, the punch's own typed reason is what the caller gets.
    const plain = await startNode(
      lab!,
      matrix!.server,
      { host: 'forced_a', kind: 'symmetric', side: 'a' },
      { net: { nodeType: 'simultaneous', circuitRelay: false } },
    )
    extra.push(plain)
    const failed = await attempt(plain, matrix!.nodes.b.rst)
    expect(failed).toMatchObject({ ok: false, code: 'ERR_CONNECT_FAILED' })
    if (!failed.ok) {
      expect(failed.message).toMatch(/unpredictable/)
      expect(failed.attempts).toContainEqual(
        expect.objectContaining({ method: 'punch', skipped: false, code: 'ERR_NAT_UNPREDICTABLE' }),
      )
    }
  }, 90_000)

  it('bootstrap(): a node behind a symmetric NAT dials every node the server lists: the passive ones', async () => {
    const m = matrix!
    const node = m.nodes.a.symmetric
    node.proc.write(`${JSON.stringify({ cmd: 'bootstrap' })}\n`)
    const done = await waitEvent(
      node.proc,
      (e) => e.event === 'bootstrapped' || (e.event === 'error' && e.cmd === 'bootstrap'),
      'bootstrap',
    )
    expect(done.event).toBe('bootstrapped')
    const peers = done.peers as { nodeId: string; method: string; direction: string }[]
    const passive = SIDES.flatMap((side) => PASSIVE.map((kind) => m.nodes[side][kind].nodeId))
    expect(peers.map((p) => p.nodeId).sort()).toEqual(passive.sort())
    for (const p of peers) expect(p).toMatchObject({ method: 'bootstrap', direction: 'outbound' })
  }, 60_000)

  // After the bootstrap() test: a restarted server lists the nodes only once they registered again.
  it('the relay restarts: reservations come back by themselves, and relayed pairs connect again', async () => {
    const m = matrix!
    const port = Number(m.server.split(':').pop())
    m.serverProc.kill()
    await m.serverProc.exited
    // The same address: the nodes' UNLs name it, and their reservations heal to it.
    const again = await startServer(lab!, { port, env: { DEBUG: 'pyp2p:relay' } })
    m.serverProc = again.proc
    for (const [from, to] of [
      [m.nodes.a.symmetric, m.nodes.b.symrst],
      [m.nodes.b.symrst, m.nodes.a.drop],
    ] as const) {
      await again.proc.waitForStderr(new RegExp(`${to.nodeId} reserved from`), { timeout: 30_000 })
      const o = await attempt(from, to)
      expect(o, `${from.host} -> ${to.host}`).toMatchObject({ ok: true, method: 'relay' })
    }
  }, 90_000)

  it('a p2p net: the same node types and the same method in every cell as the direct net', async () => {
    // The direct matrix is done: its nodes make way for the same ten in a p2p net (a fresh server).
    await stopMatrix(matrix, extra.splice(0))
    matrix = await startMatrix(lab!, { net: { netType: 'p2p' }, debug: process.env.MATRIX_DEBUG === '1' })
    const m = matrix
    for (const side of SIDES) {
      for (const kind of KINDS) {
        const { report } = m.nodes[side][kind]
        const { forwarding: _f, ...expected } = EXPECTED_NODE[kind]
        expect(report, `${kind}/${side}: ${report.reasons.join('; ')}`).toMatchObject(expected)
      }
    }
    const observed: Record<string, string> = {}
    const p2pFallbacks: string[] = []
    for (const [fromSide, toSide] of [
      ['a', 'b'],
      ['b', 'a'],
    ] as const) {
      for (const from of KINDS) {
        for (const to of KINDS) {
          // Closed before the next cell: a p2p net keeps one connection per node.
          const o = await attempt(m.nodes[fromSide][from], m.nodes[toSide][to], { close: true })
          const key = `${from}/${fromSide} -> ${to}/${toSide}`
          observed[key] = cellWithFallback(o, key, p2pFallbacks)
          if (o.ok) expect(o.target).toEqual(TARGET_VIEW[o.method])
        }
      }
    }
    // The masters of passive pairs differ between the runs (new node ids), so compare the methods per
    // pair of kinds, and the whole table with what the kinds say.
    const expected = Object.fromEntries(
      Object.keys(observed).map((key) => {
        const [f, t] = key.split(' -> ') as [string, string]
        const node = (x: string): MatrixNode => {
          const [kind, side] = x.split('/') as [(typeof KINDS)[number], (typeof SIDES)[number]]
          return m.nodes[side][kind]
        }
        return [key, expectedCell(node(f), node(t))]
      }),
    )
    if (p2pFallbacks.length > 0) console.log(`p2p: punch cells connected by relay: ${p2pFallbacks}`)
    expect(observed).toEqual(expected)
    const punched = Object.values(observed).filter((c) => c === 'punch').length
    expect(punched).toBe(8) // drop and rst, each side to the other: 2 x 2 x 2 (punched, or relayed after)
    if (directCells !== undefined) {
      const methods = (cells: Record<string, string>): Record<string, number> => {
        const n: Record<string, number> = {}
        for (const c of Object.values(cells)) n[c] = (n[c] ?? 0) + 1
        return n
      }
      expect(methods(observed)).toEqual(methods(directCells))
    }
    await stopMatrix(matrix)
    matrix = undefined
  }, 700_000)

  // Ten simultaneous nodes behind five routers bootstrapping at once: p2p-bootstrap.lab.test.ts (two
  // rounds in one lab, each asserting that every bootstrap() ended and no connect used up its
  // deadline). Run here, after the p2p matrix, one node's bootstrap() did not end within 30 s in three
  // runs of 2026-12-04: a reverse connect to its twin whose answer it refused as a duplicate waited
  // for its whole 30 s deadline (issue 18; fixed in @pyp2p/unl's accept-incoming.ts).
})
