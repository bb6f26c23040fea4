// A relayed connection moving to a direct one (DCUtR-like) over real loopback sockets: both ends send
// numbered lines without pause before, during and after the switch, and each receives the other's
// exactly once and in order (application lines that look like control lines included); an upgrade
// that cannot work, or that the peer turned off, leaves the circuit carrying the lines. And the typed
// reason when the relay ends a circuit (its byte limit, its shutdown), at both ends.
import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import type { LineSocket } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { CircuitRelay, type CircuitRelayOptions, CircuitReservation, RelayListener } from '@pyp2p/relay'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CircuitRelayer,
  type IncomingConnection,
  type RelayUpgradeEvent,
  UNL,
  UnlConnector,
  withRelay,
} from '../src/index.js'

const WAIT = 20_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function startRelay(o: CircuitRelayOptions = {}) {
  const relay = new CircuitRelay({ sweepInterval: 0, ...o })
  const listener = new RelayListener(relay)
  const { port } = await listener.listen({ host: '127.0.0.1', port: 0 })
  cleanups.push(async () => {
    relay.close()
    await listener.close()
  })
  return { relay, port }
}

async function listening(): Promise<Server> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  cleanups.push(() => new Promise((r) => server.close(r)))
  return server
}

const fields = { natType: 'random', forwarding: 'none', wanAddress: '', lanAddress: '' } as const

/**
 * Bob: reserved at the relay. `listen`: it also accepts connections on loopback and its own UNL says
 * so (passive), while the UNL Alice dials with is an older one (active: only the relay applies), as a
 * node whose address became known after it was advertised.
 */
async function bob(relayPort: number, o: { listen?: boolean; relayUpgrade?: boolean } = {}) {
  const identity = NodeIdentity.generate()
  const relay = { host: '127.0.0.1', port: relayPort }
  const advertised = withRelay(
    new UNL({ nodeId: identity.nodeId, nodeType: 'active', port: 0, ...fields }),
    relay,
  )
  const server = o.listen ? await listening() : undefined
  const port = (server?.address() as { port: number } | undefined)?.port ?? 0
  const own = server
    ? new UNL({ ...advertised.toFields(), nodeType: 'passive', port, wanAddress: '127.0.0.1' })
    : advertised
  const reservation = await CircuitReservation.open({ ...relay, identity })
  cleanups.push(() => reservation.close())
  const relayer = new CircuitRelayer({ relays: [relay], reservation })
  const connector = new UnlConnector({
    unl: own,
    identity,
    relayer,
    ...(o.relayUpgrade !== undefined && { relayUpgrade: o.relayUpgrade }),
  })
  if (server) connector.acceptOn(server)
  cleanups.push(() => connector.close())
  return { connector, advertised }
}

async function alice(relayPort: number) {
  const identity = NodeIdentity.generate()
  const unl = new UNL({ nodeId: identity.nodeId, nodeType: 'active', port: 0, ...fields })
  const relayer = new CircuitRelayer({ relays: [{ host: '127.0.0.1', port: relayPort }] })
  const connector = new UnlConnector({ unl, identity, relayer })
  cleanups.push(() => connector.close())
  return connector
}

async function relayedPair(relayPort: number, b: Awaited<ReturnType<typeof bob>>, watch = false) {
  const a = await alice(relayPort)
  // Listening before the connection exists: its upgrade may start as soon as it does.
  const upgraded = watch ? once(a, 'upgrade', { signal: AbortSignal.timeout(WAIT) }) : undefined
  const got = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
  const result = await a.connectWithReport(b.advertised.text, { timeout: WAIT })
  const [incoming] = (await got) as [IncomingConnection]
  expect(result.method).toBe('relay')
  expect(incoming.method).toBe('relay')
  return { a, ours: result.connection, theirs: incoming.connection, upgraded }
}

// Application lines that look like the relayed connection's control lines, or its tags.
const TRAPS = ['', '!SWITCH ', '!BYE ', '!UPGRADE ', '.', '!', 'PYP2P-PING ']
const text = (side: string, i: number): string => `${TRAPS[i % TRAPS.length]}${side}${i}`

/** Sends numbered lines without pause until `stop()` says so; resolves with how many it sent. */
async function sendUntil(con: LineSocket, side: string, stop: () => boolean): Promise<number> {
  let i = 0
  while (!stop()) {
    if (!con.sendLine(text(side, i++))) await con.drain()
    if (i % 16 === 0) await new Promise((r) => setImmediate(r)) // let the switch run meanwhile
  }
  return i
}

async function receive(con: LineSocket, count: () => number | undefined): Promise<string[]> {
  const lines: string[] = []
  const signal = AbortSignal.timeout(WAIT)
  while (lines.length !== count()) {
    lines.push(await con.readLine({ signal }))
  }
  return lines
}

const expected = (side: string, n: number): string[] => Array.from({ length: n }, (_, i) => text(side, i))

describe('relayed connection upgrade', () => {
  it('moves to a direct connection: no line lost, repeated or reordered, both ways', async () => {
    const { relay, port } = await startRelay()
    const b = await bob(port, { listen: true })
    const upgradedB = once(b.connector, 'upgrade', { signal: AbortSignal.timeout(WAIT) })
    const { ours, theirs, upgraded } = await relayedPair(port, b, true)
    const upgradedA = upgraded!
    let done = 0
    let failed = false // an upgrade event that never came: stop sending, the checks below fail
    const after = { a: 0, b: 0 } // lines each side still sends after its upgrade event
    upgradedA.then(
      () => done++,
      () => (failed = true),
    )
    upgradedB.then(
      () => done++,
      () => (failed = true),
    )
    let sentA: number | undefined
    let sentB: number | undefined
    const [nA, nB, gotByB, gotByA] = await Promise.all([
      sendUntil(ours, 'a', () => failed || (done === 2 && after.a++ > 200)).then((n) => (sentA = n)),
      sendUntil(theirs, 'b', () => failed || (done === 2 && after.b++ > 200)).then((n) => (sentB = n)),
      receive(theirs, () => sentA),
      receive(ours, () => sentB),
    ])
    const [[evA], [evB]] = (await Promise.all([upgradedA, upgradedB])) as [
      [RelayUpgradeEvent],
      [RelayUpgradeEvent],
    ]
    expect(evA).toMatchObject({ connection: ours, method: 'direct', nodeId: b.advertised.nodeId })
    expect(evB).toMatchObject({ connection: theirs, method: 'direct' })
    // Its addresses are the new connection's, no longer the relay's.
    expect([ours.remoteAddress, ours.remotePort]).toEqual([evA.host, evA.port])
    expect([theirs.remoteAddress, theirs.remotePort]).toEqual([evB.host, evB.port])
    expect([ours.remotePort, theirs.remotePort]).not.toContain(port)
    expect(ours.localPort).toBe(theirs.remotePort)
    expect(gotByB).toEqual(expected('a', nA))
    expect(gotByA).toEqual(expected('b', nB))
    // The application's objects are the ones it had; the circuit is gone.
    expect(ours.isOpen && theirs.isOpen).toBe(true)
    if (relay.stats.open > 0) await once(relay, 'end', { signal: AbortSignal.timeout(WAIT) })
    expect(relay.stats.open).toBe(0)
    ours.sendLine('still here')
    expect(await theirs.readLine({ timeout: WAIT })).toBe('still here')
    const closed = theirs.closed
    ours.close()
    expect((await closed).reason).toBe('peer')
  })

  it('an upgrade that cannot work leaves the lines on the circuit', async () => {
    const { relay, port } = await startRelay()
    const b = await bob(port) // accepts nothing: no direct path, no punch
    const { a, ours, theirs } = await relayedPair(port, b)
    const [failed] = await once(a, 'upgradeFailed', { signal: AbortSignal.timeout(WAIT) })
    expect(failed).toMatchObject({ connection: ours, error: { code: 'ERR_UPGRADE_FAILED' } })
    // Still on the circuit: both ends' peer is the relay.
    expect([ours.remoteAddress, ours.remotePort, theirs.remotePort]).toEqual(['127.0.0.1', port, port])
    for (let i = 0; i < 50; i++) ours.sendLine(text('a', i))
    expect(await receive(theirs, () => 50)).toEqual(expected('a', 50))
    theirs.sendLine('!SWITCH')
    expect(await ours.readLine({ timeout: WAIT })).toBe('!SWITCH')
    expect(relay.stats.open).toBe(1)
  })

  it('a peer that turned upgrades off answers no: the circuit stays', async () => {
    const { relay, port } = await startRelay()
    const b = await bob(port, { listen: true, relayUpgrade: false })
    const { a, ours, theirs } = await relayedPair(port, b)
    const [failed] = await once(a, 'upgradeFailed', { signal: AbortSignal.timeout(WAIT) })
    expect(failed.error.message).toMatch(/does not upgrade/)
    ours.sendLine('over the relay')
    expect(await theirs.readLine({ timeout: WAIT })).toBe('over the relay')
    expect(relay.stats.open).toBe(1)
  })
})

describe('why a circuit ended', () => {
  it("the relay's byte limit: both ends close with ERR_CIRCUIT_LIMIT (bytes)", async () => {
    const { port } = await startRelay({ maxCircuitBytes: 16 * 1024 })
    const b = await bob(port, { relayUpgrade: false })
    const { ours, theirs } = await relayedPair(port, b)
    const line = 'x'.repeat(1000)
    const closed = Promise.all([ours.closed, theirs.closed])
    for (let i = 0; i < 64 && ours.isOpen; i++) {
      ours.sendLine(line)
      await new Promise((r) => setImmediate(r))
    }
    const [a, z] = await closed
    expect(a).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_LIMIT' } })
    expect(z).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_LIMIT' } })
    expect(a.error?.message).toMatch(/^bytes/)
  })

  it("the relay's duration limit: both ends close with ERR_CIRCUIT_LIMIT (duration)", async () => {
    const { port } = await startRelay({ maxCircuitDuration: 1_500, sweepInterval: 100 })
    const b = await bob(port, { relayUpgrade: false })
    const { ours, theirs } = await relayedPair(port, b)
    const [a, z] = await Promise.all([ours.closed, theirs.closed])
    expect(a).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_LIMIT' } })
    expect(z).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_LIMIT' } })
    expect(a.error?.message).toMatch(/^duration/)
  })

  it('a relay shutdown: both ends close with ERR_CIRCUIT_ENDED', async () => {
    const { relay, port } = await startRelay()
    const b = await bob(port, { relayUpgrade: false })
    const first = await relayedPair(port, b)
    const closed = Promise.all([first.ours.closed, first.theirs.closed])
    relay.close()
    const [a, z] = await closed
    expect(a).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_ENDED' } })
    expect(z).toMatchObject({ reason: 'error', error: { code: 'ERR_CIRCUIT_ENDED' } })
  })

  it('a reader that falls behind still gets every line, then a plain end, when the peer closes', async () => {
    const { port } = await startRelay()
    const b = await bob(port, { relayUpgrade: false })
    const { ours, theirs } = await relayedPair(port, b)
    // More than the reader's queue (1,024 lines) and its stream's buffer (16 KiB) hold, fewer than its
    // carrier's queue would pause for: when the peer's close arrives, ~600 lines still wait there.
    const n = 1_800
    const line = (i: number): string => text('a', i).padEnd(100, '.')
    for (let i = 0; i < n; i++) if (!ours.sendLine(line(i))) await ours.drain()
    ours.close()
    await ours.closed
    await once(theirs.socket, 'close', { signal: AbortSignal.timeout(WAIT) }) // the circuit is gone
    expect(await receive(theirs, () => n)).toEqual(Array.from({ length: n }, (_, i) => line(i)))
    expect(await theirs.closed).toEqual({ reason: 'peer' })
  })

  it('the peer closing a relayed connection ends it without an error', async () => {
    const { port } = await startRelay()
    const b = await bob(port, { relayUpgrade: false })
    const { ours, theirs } = await relayedPair(port, b)
    ours.sendLine('last')
    ours.close()
    expect(await theirs.readLine({ timeout: WAIT })).toBe('last')
    expect(await theirs.closed).toEqual({ reason: 'peer' })
  })
})
