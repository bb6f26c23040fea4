/**
 * The proof, in the NAT lab: cone routers that drop or reset unsolicited SYNs and public hosts
 * connect pairwise; symmetric NATs fail with typed errors; a sequential NAT is punched by delta
 * prediction; two nodes behind one router are told apart; a node that vanishes mid-punch leaves nothing
 * on the server. One lab for the file; every node is a child process printing JSON lines.
 */
import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PUNCH_LAB } from './fixtures/punch-lab.js'

const ready = await labReadiness()

const NODE = new URL('./fixtures/punch-node.ts', import.meta.url).pathname
const SERVER = new URL('./fixtures/rendezvous-server.ts', import.meta.url).pathname
/** Bounds for waits on child processes: generous, they only turn a hang into a failure. */
const START_TIMEOUT = 60_000
const RUN_TIMEOUT = 180_000

type Event = Record<string, unknown> & { event: string }
const events = (p: LabProcess): Event[] =>
  p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event)

describe.skipIf(!ready.ok)('@pyp2p/punch in the NAT lab', () => {
  let lab: Lab
  let server: LabProcess
  let rendezvous: string
  const ids: Record<string, string> = {}
  let next = 1
  const idOf = (name: string): string => {
    ids[name] ??= (next++).toString(16).padStart(40, '0')
    return ids[name]!
  }

  const spawn = (host: string, role: string, name: string, extra: string[] = []): LabProcess =>
    lab.spawnNode(host, NODE, ['--role', role, '--server', rendezvous, '--node-id', idOf(name), ...extra])

  const target = async (host: string, name = host): Promise<LabProcess> => {
    const p = spawn(host, 'target', name)
    await p.waitForLine(/"registered"/, { timeout: START_TIMEOUT })
    return p
  }

  const candidate = async (
    host: string,
    targets: string[],
    trials: number,
    name = `${host}-c`,
  ): Promise<Event[]> => {
    const p = spawn(host, 'candidate', name, [
      '--targets',
      targets.map(idOf).join(','),
      '--trials',
      String(trials),
    ])
    await p.waitForLine(/"done"/, { timeout: RUN_TIMEOUT })
    return events(p)
  }

  let statsSeen = 0
  const stats = async (): Promise<Record<string, number>> => {
    const seq = ++statsSeen
    server.kill('SIGUSR2')
    const line = await server.waitForLine(new RegExp(`^\\{"event":"stats","seq":${seq},`), {
      timeout: START_TIMEOUT,
    })
    return JSON.parse(line) as Record<string, number>
  }

  beforeAll(async () => {
    lab = await createLab({ ...PUNCH_LAB, hosts: { ...PUNCH_LAB.hosts, hd1b: { router: 'd1' } } })
    server = lab.spawnNode('srv', SERVER, ['--port', '8000'])
    await server.waitForLine(/^listening on /, { timeout: START_TIMEOUT })
    rendezvous = `${lab.host('srv').ip}:8000`
  }, 2 * START_TIMEOUT)

  afterAll(async () => {
    await lab?.close()
  })

  it(
    'cone (drop), cone (rst) and public hosts connect pairwise and exchange lines',
    async () => {
      const targets = await Promise.all(['hd2', 'hr1', 'hr2', 'p1', 'p2'].map((h) => target(h)))
      // The inbound-policy probe (dial-back to the probe connection's own port) tells the routers apart;
      // a public host has no router to probe.
      expect(targets.map((t) => events(t).find((e) => e.event === 'nat')?.inbound)).toEqual([
        'drop',
        'rst',
        'rst',
        undefined,
        undefined,
      ])
      const pairs: Array<[string, string[]]> = [
        ['hd1', ['hd2', 'hr1', 'p1']], // drop-drop, drop-rst, drop-public
        ['hr1', ['hr2', 'p1']], // rst-rst, rst-public
        ['p1', ['p2']], // public-public
      ]
      // one punch per pair here; bench/src/punch.ts runs 50 per pair for the statistics
      const results = await Promise.all(pairs.map(([from, to]) => candidate(from, to, 1)))
      for (const [i, [from, to]] of pairs.entries()) {
        const got = results[i]!.filter((e) => e.event === 'connected' || e.event === 'error')
        expect(
          got.map((e) => [e.event, e.peer]),
          `${from} -> ${to.join(',')}`,
        ).toEqual(to.map((t) => ['connected', idOf(t)]))
        for (const e of got) expect(e.line).toBe(`hello from ${e.peer}`)
        const methods = new Set(got.map((e) => e.method))
        expect([...methods].every((m) => m === 'simultaneous-open' || m === 'direct')).toBe(true)
      }
      // the public-public pair needs no punch: the target listens
      expect(results[2]!.filter((e) => e.event === 'connected').every((e) => e.method === 'direct')).toBe(
        true,
      )
    },
    RUN_TIMEOUT,
  )

  it(
    'a symmetric (random) NAT fails with a typed error: detection as candidate, coordination against it',
    async () => {
      await target('hsy')
      const asCandidate = await candidate('hsy', ['hd2'], 1)
      expect(asCandidate.find((e) => e.event === 'nat')).toMatchObject({ type: 'random' })
      expect(asCandidate.find((e) => e.event === 'error')).toMatchObject({
        code: 'ERR_NAT_UNPREDICTABLE',
        stage: 'detection',
      })
      const againstIt = await candidate('hd1', ['hsy'], 1, 'hd1-sy')
      expect(againstIt.find((e) => e.event === 'error')).toMatchObject({
        code: 'ERR_PUNCH_REJECTED',
        stage: 'coordination',
      })
    },
    RUN_TIMEOUT,
  )

  it(
    'a sequential NAT is detected as delta and punched with delta prediction',
    async () => {
      const t = await target('hsq')
      expect(events(t).find((e) => e.event === 'nat')).toMatchObject({ type: 'delta', delta: 1 })
      const got = await candidate('hd1', ['hsq'], 1, 'hd1-sq')
      expect(got.find((e) => e.event === 'connected')).toMatchObject({
        peer: idOf('hsq'),
        line: `hello from ${idOf('hsq')}`,
      })
      const targetSide = await t.waitForLine(/"event":"connected"/, { timeout: RUN_TIMEOUT })
      expect(JSON.parse(targetSide)).toMatchObject({ method: 'delta-prediction' })
    },
    RUN_TIMEOUT,
  )

  it(
    'two nodes behind the same router register and are told apart by node id',
    async () => {
      const a = spawn('hd1', 'passive', 'same-a', ['--port', '5001'])
      const b = spawn('hd1b', 'passive', 'same-b', ['--port', '5002'])
      await Promise.all([a, b].map((p) => p.waitForLine(/"registered"/, { timeout: START_TIMEOUT })))
      const asker = spawn('p2', 'bootstrap', 'asker')
      const line = await asker.waitForLine(/"event":"nodes"/, { timeout: START_TIMEOUT })
      const { nodes } = JSON.parse(line) as { nodes: Array<{ nodeId: string; ip: string; port: number }> }
      const wan = lab.router('d1').wanIp
      expect(nodes).toEqual(
        expect.arrayContaining([
          { nodeType: 'passive', nodeId: idOf('same-a'), ip: wan, port: 5001, unproven: true },
          { nodeType: 'passive', nodeId: idOf('same-b'), ip: wan, port: 5002, unproven: true },
        ]),
      )
    },
    RUN_TIMEOUT,
  )

  it(
    'a node that disappears mid-punch leaves nothing behind on the server',
    async () => {
      const before = await stats()
      const vanish = spawn('hr2', 'vanish', 'vanish')
      await vanish.waitForLine(/"registered"/, { timeout: START_TIMEOUT })
      expect((await stats()).simultaneousNodes).toBe(before.simultaneousNodes! + 1)
      const got = await candidate('hd2', ['vanish'], 1, 'hd2-v')
      expect(got.find((e) => e.event === 'error')).toMatchObject({
        code: 'ERR_PEER_GONE',
        stage: 'coordination',
      })
      await vanish.exited
      const after = await stats()
      expect(after.simultaneousNodes).toBe(before.simultaneousNodes)
      expect(after.pendingPunches).toBe(0)
      const again = await candidate('hd2', ['vanish'], 1, 'hd2-v2')
      expect(again.find((e) => e.event === 'error')).toMatchObject({ serverCode: 'ERR_NO_SUCH_NODE' })
    },
    RUN_TIMEOUT,
  )
})
