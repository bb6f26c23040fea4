// What the server's HELLO announces, from the client side: `proofs=connection` (after one signed command
// succeeded, RendezvousClient sends the node's commands unsigned on that connection; to a server that did
// not announce it, every one is signed) and `lifetime=<seconds>` (RendezvousSession repeats its READY
// after half of it). Real bootstrap-servers on loopback; "an older server" is a small line server that
// greets as one did (it cannot run here otherwise).
import { once } from 'node:events'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { BootstrapServer } from '@pyp2p/bootstrap-server'
import { NodeIdentity } from '@pyp2p/identity'
import { afterEach, describe, expect, it } from 'vitest'
import { RendezvousClient, RendezvousSession, SESSION_MAX_TIMER_MS } from '../src/index.js'
import { refreshDelay, resolveSessionTuning } from '../src/session-options.js'
import { ManualTimers } from './fixtures/manual-timers.js'

const WAIT = 10_000
const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function server(
  extra: ConstructorParameters<typeof BootstrapServer>[0] = {},
): Promise<{ server: BootstrapServer; address: { host: string; port: number } }> {
  const s = new BootstrapServer({ ...extra, host: '127.0.0.1', port: 0 })
  const { port } = await s.listen()
  cleanups.push(() => s.close())
  return { server: s, address: { host: '127.0.0.1', port } }
}

async function client(address: { host: string; port: number }, me: NodeIdentity): Promise<RendezvousClient> {
  const c = await RendezvousClient.connect({ server: address, nodeId: me.nodeId, identity: me })
  cleanups.push(() => c.close())
  return c
}

/** Every command `c` sends from now on but PONGs (read off its socket's writes, which still go out). */
function sentLines(c: RendezvousClient): string[] {
  const lines: string[] = []
  const send = c.connection.sendLine.bind(c.connection)
  c.connection.sendLine = (line: string) => {
    if (!line.startsWith('PONG ')) lines.push(line)
    return send(line)
  }
  return lines
}

/** A server that greets as one without `proofs=connection` did, and answers every command `OK`-like. */
async function olderServer(): Promise<{ host: string; port: number }> {
  const sockets: Socket[] = []
  const srv = createServer((socket) => {
    sockets.push(socket)
    socket.write(`HELLO PYP2P/1 127.0.0.1 1 nonce=${'n'.repeat(22)} server=old\r\n`)
    let buf = ''
    socket.on('data', (d) => {
      buf += d.toString('latin1')
      for (let i = buf.indexOf('\r\n'); i !== -1; i = buf.indexOf('\r\n')) {
        const line = buf.slice(0, i)
        buf = buf.slice(i + 2)
        if (line.startsWith('PASSIVE READY')) socket.write('OK PASSIVE\r\n')
        else if (line.startsWith('CLEAR')) socket.write('OK CLEAR\r\n')
        else if (line.startsWith('CANDIDATE')) socket.write('PREDICTION SET p1\r\n')
      }
    })
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  cleanups.push(() => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => srv.close(resolve))
  })
  return { host: '127.0.0.1', port: (srv.address() as AddressInfo).port }
}

const signedWord = / SIG [A-Za-z0-9_-]{43} [A-Za-z0-9_-]{86}$/

describe('proven connections, client side (issue 17)', () => {
  it('signs until one signed command succeeded, then sends the node id unsigned; the server accepts it', async () => {
    const { server: srv, address } = await server()
    const target = NodeIdentity.generate()
    const t = await client(address, target)
    await t.registerSimultaneous(5000)
    const me = NodeIdentity.generate()
    const c = await client(address, me)
    const lines = sentLines(c)
    expect(c.proven).toBe(false)
    await c.registerPassive(6000)
    expect(c.proven).toBe(true)
    const challenged = once(t, 'challenge', { signal: AbortSignal.timeout(WAIT) })
    expect(await c.candidate(target.nodeId, [4000])).toMatch(/^[0-9a-f]{16}$/)
    expect((await challenged)[0]).toMatchObject({ nodeId: me.nodeId })
    await c.registerPassive(6001)
    expect(lines).toHaveLength(3)
    expect(lines[0]).toMatch(signedWord)
    for (const line of lines.slice(1)) expect(line).not.toMatch(/ SIG /)
    expect(srv.nodes.get(me.nodeId)).toMatchObject({ port: 6001, unproven: false })
  })

  it('a signed command that fails proves nothing: the next one is signed again', async () => {
    const { address } = await server({ maxNodes: 1 })
    const other = await client(address, NodeIdentity.generate())
    await other.registerPassive(5000)
    const me = NodeIdentity.generate()
    const c = await client(address, me)
    const lines = sentLines(c)
    await expect(c.registerPassive(6000)).rejects.toMatchObject({ serverCode: 'ERR_TOO_MANY_NODES' })
    expect(c.proven).toBe(false)
    await expect(c.registerPassive(6000)).rejects.toMatchObject({ serverCode: 'ERR_TOO_MANY_NODES' })
    expect(lines.every((l) => signedWord.test(l))).toBe(true)
  })

  it('signs every command to a server whose HELLO has no proofs=connection', async () => {
    const me = NodeIdentity.generate()
    const c = await client(await olderServer(), me)
    expect(c.asksForProof).toBe(true)
    const lines = sentLines(c)
    await c.registerPassive(6000)
    await c.candidate(NodeIdentity.generate().nodeId, [4000])
    await c.registerPassive(6001)
    expect(c.proven).toBe(false)
    expect(lines).toHaveLength(3)
    for (const line of lines) expect(line).toMatch(signedWord)
    expect(c.lifetimeMs).toBeUndefined()
  })
})

describe('lifetime= in the HELLO', () => {
  it('a session repeats its READY after half the lifetime the server announced (no option given)', async () => {
    let now = 0
    const clock = { now: () => now }
    const lifetime = 90_000
    const { server: srv, address } = await server({ clock, nodeLifetimeMs: lifetime })
    const me = NodeIdentity.generate()
    const timers = new ManualTimers()
    const s = new RendezvousSession({ servers: [address], nodeId: me.nodeId, identity: me, timers })
    cleanups.push(() => s.close())
    await s.register('passive', 5005, 1)
    expect(s.client?.lifetimeMs).toBe(lifetime)
    expect(timers.delays()).toContain(lifetime / 2)
    now += lifetime / 2
    const refreshed = once(s, 'registered', { signal: AbortSignal.timeout(WAIT) })
    timers.fire(lifetime / 2)
    expect((await refreshed)[0]).toMatchObject({ reason: 'refresh', port: 5005 })
    // (on the proven connection, unsigned: accepted as the proven node)
    expect(srv.nodes.get(me.nodeId)).toMatchObject({ registeredAt: lifetime / 2, unproven: false })
    now += lifetime / 2 + 1
    srv.sweep()
    expect(srv.nodes.get(me.nodeId)).toBeDefined()
  })

  it('announced: the server is believed, a shorter option kept, the timer bounded; silent: the option or 24 h', () => {
    const at = (registrationLifetimeMs?: number) =>
      resolveSessionTuning({
        servers: [{ host: '127.0.0.1' }],
        nodeId: 'a'.repeat(40),
        ...(registrationLifetimeMs !== undefined && { registrationLifetimeMs }),
      })
    expect(refreshDelay(at(), 60_000)).toBe(30_000)
    expect(refreshDelay(at(40_000), 60_000)).toBe(20_000)
    expect(refreshDelay(at(600_000), 60_000)).toBe(30_000)
    expect(refreshDelay(at(), undefined)).toBe(12 * 60 * 60 * 1000)
    expect(refreshDelay(at(40_000), undefined)).toBe(20_000)
    expect(refreshDelay(at(), 365 * 24 * 60 * 60 * 1000)).toBe(SESSION_MAX_TIMER_MS)
  })

  it('the server announces its node lifetime in whole seconds, none under a second', async () => {
    const me = NodeIdentity.generate()
    const { address } = await server({ nodeLifetimeMs: 1_500 })
    expect((await client(address, me)).lifetimeMs).toBe(1_000)
    const { address: a2 } = await server({ nodeLifetimeMs: 999 })
    expect((await client(a2, me)).lifetimeMs).toBeUndefined()
    const { address: a3 } = await server()
    expect((await client(a3, me)).lifetimeMs).toBe(24 * 60 * 60 * 1000)
  })
})
