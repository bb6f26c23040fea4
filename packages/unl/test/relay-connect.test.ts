// The relay method at the node (UnlConnector + CircuitRelayer) over real loopback sockets: two nodes
// that accept no connection (active: no other method applies) connect through a circuit relay where
// the target holds a reservation; the end-to-end handshake runs over the circuit, so the relay carries
// only ciphertext; the report names the relay; a target without a reservation fails typed.
import { once } from 'node:events'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { type IncomingConnection, planConnect, relayOf, UNL, withRelay } from '../src/index.js'
import { activeNode, startCircuitRelay } from './fixtures/circuit-relay.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

const startRelay = () => startCircuitRelay(cleanups)

/** An active node (accepts nothing), reserved at the relay when `reserve` (its UNL then names it). */
const node = (relayPort: number, reserve: boolean) =>
  activeNode(
    cleanups,
    reserve ? { own: relayPort, reserveAt: relayPort, named: relayPort } : { own: relayPort },
  )

describe('relay method', () => {
  it('a UNL names its relay in an optional extension, round trip', () => {
    const unl = new UNL({
      nodeId: 'ab'.repeat(20),
      nodeType: 'active',
      natType: 'random',
      forwarding: 'none',
      port: 0,
      wanAddress: '',
      lanAddress: '',
    })
    expect(relayOf(unl)).toBeUndefined()
    const v4 = withRelay(unl, { host: '11.0.0.2', port: 8000 })
    expect(relayOf(UNL.parse(v4.text))).toEqual({ host: '11.0.0.2', port: 8000 })
    const v6 = withRelay(v4, { host: '2001:db8::1', port: 443 })
    expect(relayOf(UNL.parse(v6.text))).toEqual({ host: '2001:db8::1', port: 443 })
    expect(relayOf(withRelay(v6, undefined))).toBeUndefined()
    expect(withRelay(v6, undefined).equals(unl)).toBe(true)
  })

  it('plans relay last, and alone when no other method applies', () => {
    const f = { natType: 'random', forwarding: 'none', port: 0, wanAddress: '', lanAddress: '' } as const
    const a = new UNL({ nodeId: '1'.repeat(40), nodeType: 'active', ...f })
    const b = new UNL({ nodeId: '2'.repeat(40), nodeType: 'active', ...f })
    const plan = planConnect(a, b, { reverse: true, punch: true, relay: true })
    expect(plan.methods).toEqual([{ method: 'relay' }])
    expect(plan.skipped.map((s) => s.method).sort()).toEqual(['direct', 'punch', 'reverse'])
    const none = planConnect(a, b, { reverse: true, punch: true })
    expect(none.methods).toEqual([])
    expect(none.skipped.find((s) => s.method === 'relay')?.error?.message).toMatch(/no relayer/)
    const unknown = planConnect(a, b, { reverse: true, punch: true, relay: true, relayUnavailable: 'x' })
    expect(unknown.methods).toEqual([])
  })

  it('two nodes that accept nothing connect through the relay; it sees only ciphertext', async () => {
    const { relay, port } = await startRelay()
    const bob = await node(port, true)
    const alice = await node(port, false)
    // Everything the relay splices, both directions.
    const seen: Buffer[] = []
    relay.on('circuit', ({ sockets }) => {
      for (const s of sockets as readonly Socket[]) s.on('data', (c: Buffer) => seen.push(c))
    })
    const got = once(bob.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await alice.connector.connectWithReport(bob.unl.text, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'relay', secure: true, relay: `127.0.0.1:${port}` })
    const [incoming] = (await got) as [IncomingConnection]
    expect(incoming).toMatchObject({
      method: 'relay',
      nodeId: alice.identity.nodeId,
      relay: `127.0.0.1:${port}`,
    })
    const secret = 'the application line that only the two ends may read'
    result.connection.sendLine(secret)
    expect(await incoming.connection.readLine({ timeout: WAIT })).toBe(secret)
    incoming.connection.sendLine(`${secret} (answer)`)
    expect(await result.connection.readLine({ timeout: WAIT })).toBe(`${secret} (answer)`)
    const all = Buffer.concat(seen)
    expect(all.length).toBeGreaterThan(secret.length * 2)
    expect(all.includes(Buffer.from('application line'))).toBe(false)
    expect(all.includes(Buffer.from('PYP2P-CONNECT'))).toBe(false)
    expect(relay.stats.open).toBe(1)
    const ended = once(relay, 'end')
    result.connection.close()
    await ended
    expect(relay.stats.open).toBe(0)
  })

  it('a target without a reservation: ERR_CONNECT_FAILED naming ERR_NO_RESERVATION', async () => {
    const { port } = await startRelay()
    const bob = await node(port, false)
    const alice = await node(port, false)
    const err = await alice.connector.connect(bob.unl, { timeout: WAIT }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_CONNECT_FAILED' })
    const attempts = (err as { attempts: { method: string; error?: { code?: string } }[] }).attempts
    expect(attempts.find((a) => a.method === 'relay')?.error?.code).toBe('ERR_NO_RESERVATION')
  })
})
