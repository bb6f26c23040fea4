// UnlConnector end to end in the NAT lab: real namespaces, nftables NAT routers, miniupnpd. Every
// node is a child process (fixtures/node.ts) that builds its UNL from what it knows, connects or
// accepts, exchanges three lines each way and prints JSON events this file asserts on.
import { createLab, type Lab, type LabProcess, labReadiness } from '@pyp2p/netlab'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { UNL } from '../src/index.js'

const NODE = new URL('./fixtures/node.ts', import.meta.url).pathname
const RELAY = new URL('./fixtures/relay.ts', import.meta.url).pathname
const BOOTSTRAP = new URL('./fixtures/bootstrap.ts', import.meta.url).pathname
/** Upper bound of every wait on a fixture's line (a hung step fails instead of hanging). */
const WAIT = 30_000
/** How long a stopped fixture gets to close (and remove its port mappings) before SIGKILL. */
const KILL_AFTER = 10_000

type Event = Record<string, unknown> & { event: string }

interface NodeConfig {
  name: string
  nodeType: 'passive' | 'active' | 'simultaneous'
  wan: string
  lan: string
  natType?: string
  forwarding?: string
  relay?: { host: string; port: number }
  upnp?: boolean
  punch?: { host: string; port: number }
  reverseTimeout?: number
}

interface Node {
  proc: LabProcess
  name: string
  ready: Event
  unl: string
}

function parse(line: string): Event | undefined {
  try {
    const v = JSON.parse(line) as unknown
    return typeof v === 'object' && v !== null && typeof (v as Event).event === 'string'
      ? (v as Event)
      : undefined
  } catch {
    return undefined
  }
}

/** The first event `event` (matching `match`) the process printed, since it started. */
async function waitEvent(
  proc: LabProcess,
  event: string,
  match: (e: Event) => boolean = () => true,
): Promise<Event> {
  try {
    const line = await proc.waitForLine(
      (l) => {
        const e = parse(l)
        return e?.event === event && match(e)
      },
      { timeout: WAIT },
    )
    return parse(line)!
  } catch (err) {
    throw new Error(
      `no "${event}" event: ${(err as Error).message}\nstdout:\n${proc.stdout()}\nstderr:\n${proc.stderr().slice(-3000)}`,
    )
  }
}

const linesOf = (name: string): string[] => [1, 2, 3].map((i) => `${name} line ${i}`)

const ready = await labReadiness()

describe.skipIf(!ready.ok)('UnlConnector in the NAT lab', () => {
  let lab: Lab
  let relayPort = 0
  const running: LabProcess[] = []

  beforeAll(async () => {
    lab = await createLab({
      publicHosts: { relay: {}, pub: {} }, // 11.0.0.10, 11.0.0.11
      routers: {
        home: { nat: 'cone' }, // 11.0.0.100, LAN 10.1.0.0/24
        strict: { nat: 'cone', inbound: 'drop' }, // 11.0.0.101
        upnp: { nat: 'cone', inbound: 'drop', upnp: 'igd2+natpmp' }, // 11.0.0.102
        cone1: { nat: 'cone', inbound: 'drop' }, // 11.0.0.103
        cone2: { nat: 'cone', inbound: 'drop' }, // 11.0.0.104
        sym: { nat: 'symmetric', inbound: 'drop' }, // 11.0.0.105
      },
      hosts: {
        alice: { router: 'home' },
        bob: { router: 'home' },
        carol: { router: 'strict' },
        dave: { router: 'upnp' },
        erin: { router: 'cone1' },
        frank: { router: 'cone2' },
        gina: { router: 'sym' },
      },
    })
    // The relay the tests share (not in `running`: it lives as long as the lab).
    const relay = lab.spawnNode('relay', RELAY, ['0.0.0.0', '0'])
    relayPort = (await waitEvent(relay, 'listening')).port as number
  })

  afterEach(async () => {
    // Stop this test's processes; SIGTERM lets nodes remove their port mappings.
    // One that does not exit within KILL_AFTER is killed outright (the test has passed or failed by then).
    await Promise.all(
      running.splice(0).map(async (p) => {
        p.kill()
        const kill = setTimeout(() => p.kill('SIGKILL'), KILL_AFTER)
        await p.exited
        clearTimeout(kill)
      }),
    )
  })

  afterAll(() => lab?.close())

  function spawn(where: string, script: string, args: string[]): LabProcess {
    const p = lab.spawnNode(where, script, args)
    running.push(p)
    return p
  }

  async function startNode(where: string, config: NodeConfig): Promise<Node> {
    const proc = spawn(where, NODE, [JSON.stringify(config)])
    const ready = await waitEvent(proc, 'ready')
    return { proc, name: config.name, ready, unl: ready.unl as string }
  }

  function connect(from: Node, to: Node): void {
    from.proc.write(`${JSON.stringify({ cmd: 'connect', unl: to.unl })}\n`)
  }

  /** Waits for both ends' lines and checks each got the other's three lines. */
  async function expectExchange(dialer: Node, listener: Node): Promise<{ dialer: Event; listener: Event }> {
    const d = await waitEvent(dialer.proc, 'received', (e) => e.role === 'connect')
    const l = await waitEvent(listener.proc, 'received', (e) => e.role === 'accept')
    expect(d.lines).toEqual(linesOf(listener.name))
    expect(l.lines).toEqual(linesOf(dialer.name))
    return { dialer: d, listener: l }
  }

  const relayAt = (port: number) => ({ host: lab.host('relay').ip, port })
  const home = () => lab.router('home').wanIp

  it('same LAN: two hosts behind one router connect on their LAN addresses', async () => {
    const bob = await startNode('bob', {
      name: 'bob',
      nodeType: 'passive',
      wan: home(),
      lan: lab.host('bob').ip,
      natType: 'preserving',
      relay: relayAt(relayPort),
    })
    const alice = await startNode('alice', {
      name: 'alice',
      nodeType: 'active',
      wan: home(),
      lan: lab.host('alice').ip,
      natType: 'preserving',
    })
    connect(alice, bob)
    const connected = await waitEvent(alice.proc, 'connected')
    expect(connected.method).toBe('lan')
    const accepted = await waitEvent(bob.proc, 'accepted')
    expect(accepted).toMatchObject({ method: 'direct', nodeId: alice.ready.nodeId })
    const { dialer, listener } = await expectExchange(alice, bob)
    // Straight across the LAN: each saw the other's private address, not the router's.
    expect(dialer.peer).toBe(`${lab.host('bob').ip}:${bob.ready.port}`)
    expect(String(listener.peer)).toMatch(new RegExp(`^${lab.host('alice').ip.replaceAll('.', '\\.')}:`))
  })

  it('direct: a node behind a NAT connects to a public node', async () => {
    const pub = await startNode('pub', {
      name: 'pub',
      nodeType: 'passive',
      wan: lab.host('pub').ip,
      lan: lab.host('pub').ip,
    })
    const alice = await startNode('alice', {
      name: 'alice',
      nodeType: 'active',
      wan: home(),
      lan: lab.host('alice').ip,
      natType: 'preserving',
    })
    connect(alice, pub)
    const connected = await waitEvent(alice.proc, 'connected')
    expect(connected.method).toBe('direct')
    expect(await waitEvent(pub.proc, 'accepted')).toMatchObject({ nodeId: alice.ready.nodeId })
    const { listener } = await expectExchange(alice, pub)
    // Through the NAT: the public node saw the router's WAN address.
    expect(String(listener.peer)).toMatch(new RegExp(`^${home().replaceAll('.', '\\.')}:`))
  })

  it('direct: a public node connects to a node behind a UPnP-mapped port (@pyp2p/nat)', async () => {
    const { wanIp } = lab.router('upnp')
    const dave = await startNode('dave', {
      name: 'dave',
      nodeType: 'passive',
      wan: '', // learned from the mapping
      lan: lab.host('dave').ip,
      natType: 'preserving',
      upnp: true,
    })
    // The UNL carries what the router granted: its WAN address, the forwarding kind, the public port.
    const unl = UNL.parse(dave.unl)
    expect(unl).toMatchObject({ wanAddress: wanIp, forwarding: 'upnp', port: dave.ready.port })
    expect(await lab.upnpMappings('upnp')).toContainEqual(
      expect.objectContaining({
        protocol: 'TCP',
        externalPort: unl.publicPort,
        internalIp: lab.host('dave').ip,
        internalPort: dave.ready.port,
      }),
    )
    const pub = await startNode('pub', {
      name: 'pub',
      nodeType: 'active',
      wan: lab.host('pub').ip,
      lan: lab.host('pub').ip,
    })
    connect(pub, dave)
    const connected = await waitEvent(pub.proc, 'connected')
    expect(connected.method).toBe('direct')
    expect(await waitEvent(dave.proc, 'accepted')).toMatchObject({ nodeId: pub.ready.nodeId })
    const { dialer } = await expectExchange(pub, dave)
    expect(dialer.peer).toBe(`${wanIp}:${unl.publicPort}`)
    // Closing the node removes its mapping.
    dave.proc.kill()
    await dave.proc.exited
    expect(await lab.upnpMappings('upnp')).toEqual([])
  })

  it('reverse: a public node reaches a node behind a drop NAT by asking it through the relay', async () => {
    const pub = await startNode('pub', {
      name: 'pub',
      nodeType: 'passive',
      wan: lab.host('pub').ip,
      lan: lab.host('pub').ip,
      relay: relayAt(relayPort),
    })
    const carol = await startNode('carol', {
      name: 'carol',
      nodeType: 'active', // behind a router that drops unsolicited SYNs: nobody can dial her
      wan: lab.router('strict').wanIp,
      lan: lab.host('carol').ip,
      natType: 'preserving',
      relay: relayAt(relayPort),
    })
    connect(pub, carol)
    const connected = await waitEvent(pub.proc, 'connected')
    expect(connected.method).toBe('reverse')
    expect(connected.attempts).toEqual([
      { method: 'reverse', ok: true, skipped: false },
      expect.objectContaining({ method: 'direct', skipped: true, message: expect.stringMatching(/active/) }),
      expect.objectContaining({ method: 'punch', skipped: true }),
      expect.objectContaining({ method: 'relay', skipped: true }),
    ])
    // Carol dialled out to the public node, at its request.
    expect(await waitEvent(carol.proc, 'accepted')).toMatchObject({
      method: 'reverse',
      nodeId: pub.ready.nodeId,
    })
    const { dialer, listener } = await expectExchange(pub, carol)
    expect(String(dialer.peer)).toMatch(new RegExp(`^${lab.router('strict').wanIp.replaceAll('.', '\\.')}:`))
    expect(listener.peer).toBe(`${lab.host('pub').ip}:${pub.ready.port}`)
  })

  async function startRendezvous(): Promise<{ host: string; port: number }> {
    const bootstrap = spawn('relay', BOOTSTRAP, ['0.0.0.0', '0'])
    return { host: lab.host('relay').ip, port: (await waitEvent(bootstrap, 'listening')).port as number }
  }

  it('hole punch: two nodes behind two cone NATs connect through a rendezvous server', async () => {
    const rendezvous = await startRendezvous()
    const node = (name: 'erin' | 'frank', router: string) =>
      startNode(name, {
        name,
        nodeType: 'simultaneous',
        wan: lab.router(router).wanIp,
        lan: lab.host(name).ip,
        punch: rendezvous,
      })
    const [erin, frank] = await Promise.all([node('erin', 'cone1'), node('frank', 'cone2')])
    // The puncher's NAT detection put the NAT type in the UNLs.
    expect(erin.ready.natType).toBe('preserving')
    expect(frank.ready.natType).toBe('preserving')
    connect(frank, erin)
    const connected = await waitEvent(frank.proc, 'connected')
    expect(connected.method).toBe('punch')
    expect(connected.attempts).toEqual([
      { method: 'punch', ok: true, skipped: false },
      expect.objectContaining({ method: 'direct', skipped: true }),
      expect.objectContaining({ method: 'reverse', skipped: true }),
      expect.objectContaining({ method: 'relay', skipped: true }),
    ])
    expect(await waitEvent(erin.proc, 'accepted')).toMatchObject({
      method: 'punch',
      nodeId: frank.ready.nodeId,
    })
    const { dialer, listener } = await expectExchange(frank, erin)
    // Straight between the two routers' public addresses: no relay in the path.
    expect(String(dialer.peer)).toMatch(new RegExp(`^${lab.router('cone1').wanIp.replaceAll('.', '\\.')}:`))
    expect(String(listener.peer)).toMatch(new RegExp(`^${lab.router('cone2').wanIp.replaceAll('.', '\\.')}:`))
  })

  it('hole punch to a node behind a symmetric NAT fails, reported with the punch error', async () => {
    const rendezvous = await startRendezvous()
    const node = (name: 'erin' | 'gina', router: string) =>
      startNode(name, {
        name,
        nodeType: 'simultaneous',
        wan: lab.router(router).wanIp,
        lan: lab.host(name).ip,
        punch: rendezvous,
      })
    const [erin, gina] = await Promise.all([node('erin', 'cone1'), node('gina', 'sym')])
    expect(gina.ready.natType).toBe('random')
    connect(erin, gina)
    const failed = await waitEvent(erin.proc, 'connect-failed')
    expect(failed).toMatchObject({ isUnlError: true, code: 'ERR_CONNECT_FAILED' })
    expect(failed.attempts).toContainEqual(
      expect.objectContaining({ method: 'punch', ok: false, skipped: false, code: 'ERR_PUNCH_REJECTED' }),
    )
  })

  describe('relay restart', () => {
    /** A relay of the test's own (the shared one stays up), and the two nodes of the reverse test. */
    async function setup(reverseTimeout?: number) {
      const relay = spawn('relay', RELAY, ['0.0.0.0', '0'])
      const port = (await waitEvent(relay, 'listening')).port as number
      const pub = await startNode('pub', {
        name: 'pub',
        nodeType: 'passive',
        wan: lab.host('pub').ip,
        lan: lab.host('pub').ip,
        relay: relayAt(port),
        ...(reverseTimeout !== undefined && { reverseTimeout }),
      })
      const carol = await startNode('carol', {
        name: 'carol',
        nodeType: 'active',
        wan: lab.router('strict').wanIp,
        lan: lab.host('carol').ip,
        relay: relayAt(port),
      })
      // Crash the relay (SIGKILL: it loses every queued message) and wait until both nodes noticed.
      relay.kill('SIGKILL')
      await relay.exited
      for (const node of [pub, carol]) await waitEvent(node.proc, 'relay', (e) => e.state === 'disconnected')
      return { port, pub, carol }
    }

    it('is survived: the request waits for the relay, which delivers it once back', async () => {
      const { port, pub, carol } = await setup()
      connect(pub, carol)
      // The request is queued in pub's relay client while the relay is down.
      expect(await waitEvent(pub.proc, 'connecting')).toMatchObject({ pendingSends: 1 })
      const restarted = spawn('relay', RELAY, ['0.0.0.0', String(port)])
      await waitEvent(restarted, 'listening')
      const connected = await waitEvent(pub.proc, 'connected')
      expect(connected.method).toBe('reverse')
      expect(await waitEvent(carol.proc, 'accepted')).toMatchObject({ method: 'reverse' })
      await expectExchange(pub, carol)
    })

    it('that never comes back is reported as ERR_RELAY_UNAVAILABLE', async () => {
      const { pub, carol } = await setup(1_500)
      connect(pub, carol)
      const failed = await waitEvent(pub.proc, 'connect-failed')
      expect(failed).toMatchObject({ isUnlError: true, code: 'ERR_CONNECT_FAILED' })
      expect(failed.attempts).toContainEqual(
        expect.objectContaining({
          method: 'reverse',
          ok: false,
          skipped: false,
          code: 'ERR_RELAY_UNAVAILABLE',
          message: expect.stringMatching(/relay did not accept the reverse-connect request/),
        }),
      )
      expect(failed.message).toMatch(/reverse failed after \d+ ms \(The relay did not accept/)
    })
  })
})
