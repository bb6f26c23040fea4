/**
 * Reachability by dial-back over real loopback sockets: the bootstrap server connects back, the
 * listener recognises and drops the probe, and a port (or a port mapping) counts as reachable only
 * after the server reached it and its nonce arrived.
 */
import { once } from 'node:events'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { format } from 'node:util'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { LineSocket } from '@pyp2p/framing'
import createDebug from 'debug'
import { afterEach, describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { DialBackListener, type ReachabilityQuery, ServerDialBackProbe } from '../src/index.js'
import { determineNodeType } from '../src/node-type.js'
import { WAIT_MS } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function listen(server: Server, host: string): Promise<number> {
  server.listen({ host, port: 0 })
  await once(server, 'listening', { signal: AbortSignal.timeout(WAIT_MS) })
  const sockets = new Set<Socket>()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  cleanups.push(() => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return (server.address() as { port: number }).port
}

async function bootstrapServer(options: ConstructorParameters<typeof BootstrapServer>[0] = {}) {
  const server = new BootstrapServer({ host: '127.0.0.1', port: 0, relay: false, ...options })
  const { port } = await server.listen()
  cleanups.push(() => server.close())
  return { server, address: { host: '127.0.0.1', port } }
}

/** A listener like Net's: each connection is screened for probes, else its first line is a peer's hello. */
async function screenedListener(host: string, dialBacks: DialBackListener) {
  const peers: string[] = []
  const closing = new AbortController()
  cleanups.push(() => closing.abort())
  const server = createServer((socket) => {
    const con = new LineSocket(socket)
    dialBacks
      .screen(socket, closing.signal, (signal) => con.readLine({ signal }))
      .then(
        (line) => {
          if (line !== undefined) peers.push(line)
        },
        () => con.close(),
      )
  })
  return { port: await listen(server, host), peers }
}

/** A TCP forwarder on `host` to `to`: what a router's port mapping does. */
async function forwarder(host: string, to: { host: string; port: number }): Promise<number> {
  const server = createServer((inbound) => {
    const out = tcpConnect(to)
    inbound.pipe(out).pipe(inbound)
    inbound.on('error', () => out.destroy())
    out.on('error', () => inbound.destroy())
  })
  return listen(server, host)
}

async function closedPort(): Promise<number> {
  const server = createServer()
  server.listen({ host: '127.0.0.1', port: 0 })
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function query(port: number, over: Partial<ReachabilityQuery> = {}): ReachabilityQuery {
  return {
    host: '127.0.0.1',
    port,
    listen: { address: '127.0.0.1', port },
    observed: { ip: '127.0.0.1', port: 1 },
    mapped: false,
    signal: AbortSignal.timeout(WAIT_MS),
    ...over,
  }
}

describe('ServerDialBackProbe', () => {
  it('reachable once the server connected back and its nonce reached our listener; the probe is no peer', async () => {
    const { server, address } = await bootstrapServer()
    const dialBacks = new DialBackListener()
    const l = await screenedListener('127.0.0.1', dialBacks)
    const probe = new ServerDialBackProbe({ server: address, listener: dialBacks })
    const v = await probe.check(query(l.port))
    expect(v).toEqual({
      reachable: 'reachable',
      reason: `the server connected back to 127.0.0.1:${l.port} and our listener got its nonce`,
    })
    expect(dialBacks.dropped).toBe(1)
    expect(l.peers).toEqual([])
    expect(server.stats().pendingChecks).toBe(0)
    // A real peer's first line still goes through the screen.
    const peer = await import('@pyp2p/framing').then((m) =>
      m.connectLine({ host: '127.0.0.1', port: l.port }),
    )
    cleanups.push(() => peer.close())
    peer.sendLine(`PYP2P-CONNECT/1 abc ${'ab'.repeat(20)}`)
    await until(() => l.peers.length === 1)
    expect(l.peers).toEqual([`PYP2P-CONNECT/1 abc ${'ab'.repeat(20)}`])
    expect(dialBacks.dropped).toBe(1)
  })

  it('unreachable when the server cannot connect (nothing listens there)', async () => {
    const { address } = await bootstrapServer()
    const port = await closedPort()
    const probe = new ServerDialBackProbe({ server: address, listener: new DialBackListener() })
    expect(await probe.check(query(port))).toEqual({
      reachable: 'unreachable',
      reason: `the server could not connect to 127.0.0.1:${port}: connection refused`,
    })
  })

  it('unreachable when something else answers at our address (the nonce never arrives)', async () => {
    const { address } = await bootstrapServer()
    const other = createServer((s) => s.resume())
    const port = await listen(other, '127.0.0.1')
    const probe = new ServerDialBackProbe({
      server: address,
      listener: new DialBackListener(),
      arrivalTimeout: 200,
    })
    const v = await probe.check(query(port))
    expect(v.reachable).toBe('unreachable')
    expect(v.reason).toMatch(/never reached our listener: something else answers there/)
  })

  it('falls back to the observed address when the server cannot check (rate-limited, or gone)', async () => {
    const { address } = await bootstrapServer({ checkBurst: 1, checkIntervalMs: 3_600_000 })
    const dialBacks = new DialBackListener()
    const l = await screenedListener('127.0.0.1', dialBacks)
    const probe = new ServerDialBackProbe({ server: address, listener: dialBacks })
    expect((await probe.check(query(l.port))).reachable).toBe('reachable')
    const limited = await probe.check(query(l.port))
    expect(limited.reachable).toBe('reachable')
    expect(limited.reason).toMatch(
      /did not dial back \(ERR_RATE_LIMITED .*\); observed-address: the server saw us at 127\.0\.0\.1/,
    )
    const gone = new ServerDialBackProbe({ server: { host: '127.0.0.1', port: await closedPort() } })
    const v = await gone.check(query(l.port))
    expect(v.reason).toMatch(/^asking 127\.0\.0\.1:\d+ to dial back failed .*; observed-address: /)
    expect(dialBacks.dropped).toBe(1)
  })
})

describe('start() decision with the dial-back probe', () => {
  it('a port mapping makes the node passive only after the server reached it through the mapping', async () => {
    const { address } = await bootstrapServer()
    const dialBacks = new DialBackListener()
    // We listen on 127.0.0.2 only; the server sees us at 127.0.0.1 (our "public" address).
    const l = await screenedListener('127.0.0.2', dialBacks)
    const mapped = await forwarder('127.0.0.1', { host: '127.0.0.2', port: l.port })
    const dead = await closedPort()
    const probe = new ServerDialBackProbe({ server: address, listener: dialBacks })
    const base = {
      netType: 'p2p' as const,
      nodeType: undefined,
      natType: undefined,
      listen: { address: '127.0.0.2', port: l.port },
      observed: { ip: '127.0.0.1', port: 1 },
      probe,
      forwardSkipped: undefined,
      detectNat: undefined,
      signal: AbortSignal.timeout(WAIT_MS),
    }
    let unforwarded = 0
    const ok = await determineNodeType({
      ...base,
      forward: async () => ({ method: 'upnp', externalAddress: '127.0.0.1', externalPort: mapped }),
      unforward: async () => {
        unforwarded++
      },
    })
    expect(ok).toMatchObject({ nodeType: 'passive', forwarding: 'upnp', reachability: 'reachable' })
    expect(ok.reasons[0]).toMatch(/could not connect to 127\.0\.0\.1:\d+: connection refused/)
    expect(ok.reasons[1]).toMatch(
      /upnp mapped 127\.0\.0\.1:\d+; reachability: reachable: the server connected back/,
    )
    expect(unforwarded).toBe(0)
    const refuted = await determineNodeType({
      ...base,
      forward: async () => ({ method: 'natpmp', externalAddress: '127.0.0.1', externalPort: dead }),
      unforward: async () => {
        unforwarded++
      },
    })
    expect(refuted).toMatchObject({ nodeType: 'active', forwarding: 'none', reachability: 'unreachable' })
    expect(unforwarded).toBe(1)
    expect(dialBacks.dropped).toBe(1)
    expect(l.peers).toEqual([])
  })

  it('a Net is passive after the dial-back; the probe is neither a peer nor an error in its log', async () => {
    const lines: string[] = []
    const original = createDebug.log
    createDebug.log = (...args: unknown[]) => {
      lines.push(format(...args))
    }
    cleanups.push(() => {
      createDebug.log = original
    })
    await using tn = await createTestnet({ nodes: 0 })
    const seen: unknown[] = []
    const net = await tn.createNode({ debug: true, advertise: false })
    net.on('connection', (c) => seen.push(c))
    expect(net.startReport).toMatchObject({ nodeType: 'passive', reachability: 'reachable' })
    expect(net.startReport.reasons[0]).toMatch(
      /^reachability \(server-dial-back\): reachable: the server connected back/,
    )
    expect(net.connections()).toEqual([])
    expect(seen).toEqual([])
    expect(tn.server.stats().pendingChecks).toBe(0)
    expect(lines.join('\n')).not.toMatch(/refused|error/i)
    expect(lines.join('\n')).toMatch(/started/)
    // Listening on an address the server cannot reach: not passive; loopback has no NAT, so detection
    // finds it predictable and a p2p net keeps it simultaneous (issue 18).
    const hidden = await tn.createNode({ passiveBind: '127.0.0.2', advertise: false })
    expect(hidden.startReport.nodeType).toBe('simultaneous')
    expect(hidden.startReport.reasons[0]).toMatch(/could not connect to 127\.0\.0\.1:\d+: connection refused/)
  })
})

/** Re-checks `predicate` on every event-loop turn; fails after WAIT_MS. */
async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setImmediate(resolve))
  }
}
