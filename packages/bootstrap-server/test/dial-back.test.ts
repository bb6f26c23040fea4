/**
 * `CHECK TCP <port> <nonce>` over real loopback sockets: the server dials back to the asker's observed
 * IP only, sends one line, closes, and answers in order; checks are bounded per connection and per IP.
 */
import { EventEmitter, once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapServer } from '../src/index.js'
import { startServer, TestClient, until, WAIT_MS } from './helpers.js'

let server: BootstrapServer
let port: number
const clients: TestClient[] = []
const listeners: Server[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const l of listeners.splice(0)) l.close()
  await server?.close()
})

async function client(localAddress?: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  clients.push(c)
  return c
}

/** A listener on `host` that records what each accepted connection sent before it closed. */
async function listener(host: string, listenPort = 0) {
  const received: string[] = []
  const accepted: Socket[] = []
  const from: string[] = []
  const ended = new EventEmitter()
  const srv = createServer((s) => {
    accepted.push(s)
    from.push(s.remoteAddress ?? '')
    let text = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => {
      text += d
    })
    s.on('end', () => {
      received.push(text)
      s.end()
      ended.emit('end')
    })
    s.on('error', () => {})
  })
  listeners.push(srv)
  srv.listen({ host, port: listenPort })
  await once(srv, 'listening', { signal: AbortSignal.timeout(WAIT_MS) })
  /** Resolves once `n` connections have sent everything and closed their side; fails after WAIT_MS. */
  const receivedAll = async (n: number): Promise<string[]> => {
    while (received.length < n) await once(ended, 'end', { signal: AbortSignal.timeout(WAIT_MS) })
    return received
  }
  return {
    port: (srv.address() as { port: number }).port,
    received,
    accepted,
    from,
    receivedAll,
    server: srv,
  }
}

/** A port nothing listens on (bound, then released). */
async function closedPort(host: string): Promise<number> {
  const l = await listener(host)
  await new Promise<void>((resolve) => l.server.close(() => resolve()))
  return l.port
}

describe('CHECK (dial-back)', () => {
  it('connects to the observed IP at the port, sends the nonce line, closes, and answers YES', async () => {
    ;({ server, port } = await startServer())
    const l = await listener('127.0.0.1')
    const c = await client()
    expect(await c.request(`CHECK TCP ${l.port} n0nce-1`)).toEqual({
      type: 'REACHABLE',
      port: l.port,
      reachable: true,
    })
    expect(await l.receivedAll(1)).toEqual(['PYP2P-DIALBACK/1 n0nce-1\r\n'])
    expect(l.from).toEqual(['127.0.0.1'])
    expect(server.stats().pendingChecks).toBe(0)
  })

  it('dials only the asking connection’s own IP, never another address', async () => {
    ;({ server, port } = await startServer())
    // Something listens on 127.0.0.1 only; the asker comes from 127.0.0.2.
    const other = await listener('127.0.0.1')
    const c = await client('127.0.0.2')
    const reply = await c.request(`CHECK TCP ${other.port} x`)
    expect(reply).toEqual({
      type: 'REACHABLE',
      port: other.port,
      reachable: false,
      reason: 'connection refused',
    })
    expect(other.accepted).toHaveLength(0)
    // A listener on the asker's own address is reached.
    const own = await listener('127.0.0.2')
    expect(await c.request(`CHECK TCP ${own.port} y`)).toMatchObject({ reachable: true })
    expect(own.accepted).toHaveLength(1)
    expect(other.accepted).toHaveLength(0)
  })

  it('answers NO with a reason when nothing listens', async () => {
    ;({ server, port } = await startServer())
    const free = await closedPort('127.0.0.1')
    const c = await client()
    expect(await c.request(`CHECK TCP ${free} z`)).toEqual({
      type: 'REACHABLE',
      port: free,
      reachable: false,
      reason: 'connection refused',
    })
  })

  it('runs one check per connection at a time and keeps every reply in order', async () => {
    ;({ server, port } = await startServer())
    const l = await listener('127.0.0.1')
    const free = await closedPort('127.0.0.1')
    const c = await client()
    // All in one write: the second CHECK and the BOOTSTRAP wait for the first CHECK's reply.
    c.con.socket.write(`CHECK TCP ${l.port} a\r\nPING p1\r\nCHECK TCP ${free} b\r\nBOOTSTRAP 1\r\n`)
    expect(await c.next()).toEqual({ type: 'REACHABLE', port: l.port, reachable: true })
    expect(await c.next()).toEqual({ type: 'PONG', token: 'p1' })
    expect(await c.next()).toMatchObject({ type: 'REACHABLE', port: free, reachable: false })
    expect(await c.next()).toEqual({ type: 'NODES', nodes: [] })
    expect(l.accepted).toHaveLength(1)
  })

  it('lines waiting behind a CHECK still count against the flood limit', async () => {
    ;({ server, port } = await startServer({ lineRate: 1, lineBurst: 3 }))
    const l = await listener('127.0.0.1')
    const c = await client()
    c.con.socket.write(`CHECK TCP ${l.port} f\r\nPING a\r\nPING b\r\nPING c\r\n`)
    expect(await c.next()).toMatchObject({ type: 'ERROR', code: 'ERR_FLOOD' })
    expect(await c.closed()).toBe('peer')
    await until(() => server.stats().pendingChecks === 0, 'the check to end with its connection')
  })

  it('rate-limits checks per IP (other IPs unaffected) and answers malformed ones with ERROR', async () => {
    ;({ server, port } = await startServer({ checkBurst: 2, checkIntervalMs: 3_600_000 }))
    const l = await listener('127.0.0.1')
    const a = await client('127.0.0.1')
    const b = await client('127.0.0.1')
    expect(await a.request(`CHECK TCP ${l.port} a1`)).toMatchObject({ reachable: true })
    expect(await b.request(`CHECK TCP ${l.port} b1`)).toMatchObject({ reachable: true })
    expect(await a.request(`CHECK TCP ${l.port} a2`)).toMatchObject({
      type: 'ERROR',
      code: 'ERR_RATE_LIMITED',
    })
    expect(l.accepted).toHaveLength(2)
    const own = await listener('127.0.0.3')
    const c = await client('127.0.0.3')
    expect(await c.request(`CHECK TCP ${own.port} c1`)).toMatchObject({ reachable: true })
    expect(await c.request('CHECK TCP 99999 c2')).toMatchObject({ type: 'ERROR', code: 'ERR_MALFORMED' })
    expect(await c.request(`CHECK TCP ${own.port} 10.0.0.1`)).toMatchObject({ code: 'ERR_MALFORMED' })
    expect(await a.request('BOOTSTRAP 1')).toEqual({ type: 'NODES', nodes: [] })
  })

  it('caps the checks running at once on the whole server', async () => {
    ;({ server, port } = await startServer({ maxPendingChecks: 1 }))
    const l = await listener('127.0.0.1')
    const a = await client()
    const b = await client()
    a.send(`CHECK TCP ${l.port} a`)
    b.send(`CHECK TCP ${l.port} b`)
    // Whichever the server read first runs; the other is refused while it runs, or runs after it.
    const replies = await Promise.all([a.next(), b.next()])
    const refused = replies.filter((r) => r.type === 'ERROR')
    expect(refused.every((r) => r.type === 'ERROR' && r.code === 'ERR_RATE_LIMITED')).toBe(true)
    expect(replies.filter((r) => r.type === 'REACHABLE' && r.reachable)).toHaveLength(2 - refused.length)
    await until(() => server.stats().pendingChecks === 0, 'no check running')
  })

  it('cancels a running check when the asker disconnects', async () => {
    ;({ server, port } = await startServer())
    const l = await listener('127.0.0.1')
    const a = await client()
    a.send(`CHECK TCP ${l.port} gone`)
    a.close()
    await a.closed()
    // Whether or not the dial-back got out, nothing is left running and the server stays usable.
    const b = await client()
    expect(await b.request('SOURCE TCP 1')).toEqual({ type: 'REMOTE', port: b.localPort })
    await until(() => server.stats().pendingChecks === 0, 'the check to be cancelled')
  })
})
