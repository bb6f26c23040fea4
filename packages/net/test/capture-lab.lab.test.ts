/**
 * What crosses a NAT router's wire in the NAT lab: tcpdump runs inside the router of node `a` (a
 * port-preserving router that drops unsolicited SYNs), on every interface of that namespace (its WAN
 * and LAN veths), from before the nodes start until `a` has connected to a public node (`direct`) and
 * to a node behind another such router (`punch`, through the lab's bootstrap server) and lines have
 * travelled each way on both connections.
 * Every node is a `Net` in its own process (fixtures/net-node.ts through fixtures/matrix-lab.ts).
 *
 * Secure (the default): no marker line, nor the plain hello, is anywhere in the capture, while the
 * secure prologue of both connections is (the capture saw them). With `secure: false` on every node,
 * the same capture finds every marker line in clear on both connections, so the first test can fail.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  attempt,
  type MatrixNode,
  startNode,
  startServer,
  stopMatrix,
  WAIT_MS,
  waitEvent,
} from './fixtures/matrix-lab.js'

const ready = await labReadiness()

/** Occurrences of `needle` in `haystack`. */
function count(haystack: Buffer, needle: string): number {
  let n = 0
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) n++
  return n
}

describe.skipIf(!ready.ok)('packet capture on a lab router: direct and punched connections', () => {
  let lab: Lab | undefined
  let server = ''
  let dir = ''

  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { server: {}, public_b: {} },
      routers: {
        r_drop_a: { nat: 'cone', inbound: 'drop' },
        r_drop_b: { nat: 'cone', inbound: 'drop' },
      },
      hosts: { drop_a: { router: 'r_drop_a' }, drop_b: { router: 'r_drop_b' } },
    })
    ;({ server } = await startServer(lab))
    dir = await mkdtemp(join(tmpdir(), 'pyp2p-capture-lab-'))
  }, 90_000)

  afterAll(async () => {
    await lab?.close()
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  /** tcpdump in `router`'s namespace on all its interfaces, packets written at once; started when it listens. */
  async function capture(router: string, file: string): Promise<LabProcess> {
    const proc = (lab as Lab).spawn(router, [
      'tcpdump',
      ...['-i', 'any', '-n', '--immediate-mode', '-U', '-s', '0', '-Z', 'root', '-w', file, 'tcp'],
    ])
    await proc.waitForStderr(/listening on/, { timeout: WAIT_MS })
    return proc
  }

  /**
   * Nodes with `secure`, a capture on a's router, a line each way on each connection: a to the public
   * node (`direct`) and, with `punch`, a to b (`punch`).
   */
  async function run(
    secure: boolean,
    punch: boolean,
  ): Promise<{ pcap: Buffer; lines: string[]; stats: string }> {
    const l = lab as Lab
    const net = { secure }
    const nodes: MatrixNode[] = []
    // From before the nodes start: everything they send through the router is in it (a capture started
    // after they did once missed the plain hello of the direct connection in a full run).
    const file = join(dir, `r_drop_a-${secure}.pcap`)
    const tcpdump = await capture('r_drop_a', file)
    try {
      const pub = await startNode(l, server, { host: 'public_b', kind: 'public', side: 'b' }, { net })
      nodes.push(pub)
      const a = await startNode(l, server, { host: 'drop_a', kind: 'drop', side: 'a' }, { net })
      nodes.push(a)
      const b = punch
        ? await startNode(l, server, { host: 'drop_b', kind: 'drop', side: 'b' }, { net })
        : undefined
      if (b !== undefined) nodes.push(b)

      const direct = await attempt(a, pub)
      expect(direct.ok && direct.method).toBe('direct')
      if (b !== undefined) {
        const punched = await attempt(a, b)
        expect(punched.ok && punched.method).toBe('punch')
      }

      const tag = randomBytes(6).toString('hex')
      const said = async (from: MatrixNode, line: string, to: MatrixNode[]): Promise<void> => {
        from.proc.write(`${JSON.stringify({ cmd: 'send', line })}\n`) // to each of its connections
        await Promise.all(
          to.map((n) =>
            waitEvent(n.proc, (e) => e.event === 'line' && e.line === line, `${line} at ${n.host}`),
          ),
        )
      }
      const lines = [`TOP-SECRET-a-${tag}`, `TOP-SECRET-public-${tag}`]
      await said(a, lines[0] as string, b === undefined ? [pub] : [pub, b])
      await said(pub, lines[1] as string, [a])
      if (b !== undefined) {
        lines.push(`TOP-SECRET-b-${tag}`)
        await said(b, lines[2] as string, [a])
      }

      tcpdump.kill('SIGINT') // flushes and closes the file
      await tcpdump.exited
      // Its count of packets captured, received and dropped: the assertions' messages.
      return { pcap: await readFile(file), lines, stats: tcpdump.stderr().trim() }
    } finally {
      tcpdump.kill('SIGINT')
      await stopMatrix(undefined, nodes)
    }
  }

  it('secure (the default): no application line in clear on the router WAN/LAN', async () => {
    const { pcap, lines, stats } = await run(true, true)
    // Both connections, each side's prologue: the capture holds them.
    expect(count(pcap, 'PYP2P-SECURE/2'), stats).toBeGreaterThanOrEqual(4)
    for (const line of lines) expect(pcap.includes(line), stats).toBe(false)
    expect(pcap.includes('PYP2P-CONNECT/1'), stats).toBe(false) // the hello travels encrypted too
  }, 180_000)

  it('secure: false: the same lines in clear (so the test above can fail)', async () => {
    // Both connections again, direct and punched, through the same router.
    const { pcap, lines, stats } = await run(false, true)
    for (const line of lines) expect(pcap.includes(line), stats).toBe(true)
    expect(pcap.includes('PYP2P-CONNECT/1'), stats).toBe(true)
  }, 180_000)
})
