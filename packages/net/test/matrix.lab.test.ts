/**
 * Proof: the NAT matrix. Ten `Net` nodes in the NAT lab (fixtures/matrix-lab.ts), five kinds on each
 * side: public, cone + UPnP, cone `drop`, cone `rst`, symmetric, all started against one bootstrap
 * server (with its relay) in a `direct` net. Every node of side a dials every node of side b with
 * `net.unl.connect(theirUnl)`, then the other way round. Expected, from first principles (rows dial
 * columns; P = passive: public, or UPnP-mapped; S = simultaneous: a predictable cone NAT; A = active):
 *
 *                 public(P)   upnp(P)     drop(S)   rst(S)    symmetric(A)
 *   public(P)     master*     master*     reverse   reverse   reverse
 *   upnp(P)       master*     master*     reverse   reverse   reverse
 *   drop(S)       direct      direct      punch     punch     no method
 *   rst(S)        direct      direct      punch     punch     no method
 *   symmetric(A)  direct      direct      no method no method no method
 *
 *   * both passive: the master of the pair (larger UNL) dials (`direct`), the other asks (`reverse`).
 *
 * Nothing is assumed: each cell is a real connection attempt through real kernel NATs and a real
 * miniupnpd, and the target's own view of the connection is checked too. Bounded time: every
 * `unl.connect()` has a 20 s timeout and every wait on a node 30 s, so a broken cell fails, never hangs.
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
  stopMatrix,
  TARGET_VIEW,
  waitEvent,
} from './fixtures/matrix-lab.js'

const ready = await labReadiness()
/** The kinds whose nodes accept connections (EXPECTED_NODE says passive). */
const PASSIVE = KINDS.filter((k) => EXPECTED_NODE[k].nodeType === 'passive')

describe.skipIf(!ready.ok)('the NAT matrix (net.unl.connect between every pair of NAT kinds)', () => {
  let lab: Lab | undefined
  let matrix: Matrix | undefined
  const extra: MatrixNode[] = []

  beforeAll(async () => {
    lab = await createLab(matrixSpec())
    matrix = await startMatrix(lab, { debug: process.env.MATRIX_DEBUG === '1' })
  }, 90_000)

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
          observed[key] = cellOf(outcome)
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
    expect(observed).toEqual(expected)
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
      } else {
        // A clear reason: a typed code, a message naming every method and why it does not apply.
        expect(o.message, key).toMatch(/direct/)
        expect(o.message, key).toMatch(/reverse/)
        expect(o.message, key).toMatch(/punch/)
        expect(o.attempts.map((a) => a.method).sort(), key).toEqual(['direct', 'punch', 'reverse'])
      }
    }
  }, 120_000)

  it("a punch that cannot work fails with the punch's typed reason, in bounded time", async () => {
    // A node told it is simultaneous (the nodeType option) although its NAT is symmetric: the plan
    // says punch, and the attempt itself has to fail, cleanly.
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
    for (const [o, code] of [
      [declined, 'ERR_PUNCH_REJECTED'],
      [unpredictable, 'ERR_NAT_UNPREDICTABLE'],
    ] as const) {
      expect(o).toMatchObject({ ok: false, code: 'ERR_CONNECT_FAILED' })
      if (o.ok) continue
      expect(o.message).toMatch(/unpredictable/)
      expect(o.attempts).toContainEqual(expect.objectContaining({ method: 'punch', skipped: false, code }))
    }
  }, 60_000)

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
})
