import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { connectLine } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import { PunchError, simultaneousOpen } from '../src/index.js'

const HOST = '127.0.0.1'
const servers: Server[] = []
const sockets: Socket[] = []

async function listen(port = 0): Promise<{ server: Server; port: number; accepted: Socket[] }> {
  const accepted: Socket[] = []
  const server = createServer((s) => {
    accepted.push(s)
    sockets.push(s)
    s.on('error', () => {})
  })
  servers.push(server)
  server.listen(port, HOST)
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port, accepted }
}

/** A port nothing listens on (the OS gave it to a server that is closed again). */
async function freePort(): Promise<number> {
  const { server, port } = await listen()
  await new Promise((r) => server.close(r))
  return port
}

/** True when a server can listen on `port`: no socket of ours is left bound to it. */
async function portIsFree(port: number): Promise<boolean> {
  const server = createServer()
  server.listen(port, HOST)
  try {
    await once(server, 'listening')
    return true
  } catch {
    return false
  } finally {
    await new Promise((r) => server.close(r))
  }
}

/** Resolves once `check()` holds, looking again on every turn of the event loop. */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r))
}

async function rejection(p: Promise<unknown>): Promise<PunchError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(PunchError)
    return err as PunchError
  }
  throw new Error('expected a rejection')
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

describe('simultaneousOpen on loopback', () => {
  it('retries after ECONNREFUSED until the other side opens, then connects from the dedicated port', async () => {
    const localPort = await freePort()
    const peerPort = await freePort()
    let listening: Promise<unknown> | undefined
    const result = await simultaneousOpen({
      host: HOST,
      ports: [peerPort],
      localPort,
      localAddress: HOST,
      timeout: 20_000,
      // the peer "fires" while our third SYN is being refused
      onAttempt: (_port, n) => {
        if (n === 3) listening = listen(peerPort)
      },
    })
    await listening
    // attempts 1 and 2 were refused; the listener was up before the third SYN left
    expect(result.attempts).toBeGreaterThanOrEqual(3)
    expect(result.port).toBe(peerPort)
    expect(result.socket.localPort).toBe(localPort)
    expect(result.socket.remotePort).toBe(peerPort)
    result.socket.destroy()
  })

  it('keeps the first port that connects and destroys every other attempt', async () => {
    const dead = await freePort()
    const live = await listen()
    const localPort = await freePort()
    const tried = new Map<number, number>()
    const result = await simultaneousOpen({
      host: HOST,
      ports: [dead, live.port],
      localPort,
      localAddress: HOST,
      timeout: 20_000,
      onAttempt: (port, n) => tried.set(port, n),
    })
    expect(result.port).toBe(live.port)
    expect(result.attempts).toBe(1)
    expect(tried.get(dead)).toBeGreaterThanOrEqual(1)
    expect(result.totalAttempts).toBe((tried.get(dead) ?? 0) + 1)
    result.socket.destroy()
    await once(result.socket, 'close')
    expect(await portIsFree(localPort)).toBe(true)
  })

  it('gives up after maxAttempts with ERR_PUNCH_FAILED at the punch stage, ECONNREFUSED as cause', async () => {
    const localPort = await freePort()
    const err = await rejection(
      simultaneousOpen({
        host: HOST,
        ports: [await freePort()],
        localPort,
        localAddress: HOST,
        maxAttempts: 7,
        timeout: 20_000,
      }),
    )
    expect(err).toMatchObject({ code: 'ERR_PUNCH_FAILED', stage: 'punch' })
    expect(err.message).toContain('after 7 attempts')
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    expect(await portIsFree(localPort)).toBe(true)
  })

  it('gives up when its time is over, however many attempts are left', async () => {
    const localPort = await freePort()
    const err = await rejection(
      simultaneousOpen({
        host: HOST,
        ports: [await freePort()],
        localPort,
        localAddress: HOST,
        maxAttempts: Number.MAX_SAFE_INTEGER,
        retryGap: 1,
        timeout: 150,
      }),
    )
    expect(err).toMatchObject({ code: 'ERR_PUNCH_FAILED', stage: 'punch' })
    expect(err.message).toContain('time limit')
    expect(await portIsFree(localPort)).toBe(true)
  })

  it('honours the signal: ERR_ABORTED, nothing left bound', async () => {
    const localPort = await freePort()
    const ac = new AbortController()
    const err = await rejection(
      simultaneousOpen({
        host: HOST,
        ports: [await freePort()],
        localPort,
        localAddress: HOST,
        maxAttempts: Number.MAX_SAFE_INTEGER,
        timeout: 20_000,
        signal: ac.signal,
        onAttempt: (_p, n) => n === 5 && ac.abort(new Error('stop')),
      }),
    )
    expect(err).toMatchObject({ code: 'ERR_ABORTED', stage: 'punch' })
    expect(await portIsFree(localPort)).toBe(true)
  })

  it('rejects bad arguments with ERR_INVALID_ARGUMENT', async () => {
    const base = { host: HOST, localPort: 40000 }
    expect(await rejection(simultaneousOpen({ ...base, ports: [] }))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    expect(await rejection(simultaneousOpen({ ...base, ports: [70000] }))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    expect(await rejection(simultaneousOpen({ ...base, localPort: -1, ports: [1] }))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('fails fast with the bind error when a server listens on the local port (LAB.md: EADDRINUSE)', async () => {
    const taken = await listen()
    const err = await rejection(
      simultaneousOpen({
        host: HOST,
        ports: [await freePort()],
        localPort: taken.port,
        localAddress: HOST,
        timeout: 20_000,
      }),
    )
    expect(err).toMatchObject({ code: 'ERR_PUNCH_FAILED', stage: 'punch' })
    expect((err.cause as NodeJS.ErrnoException).code).toBe('EADDRINUSE')
  })
})

/** Blocks the event loop for `ms` (a busy loop standing in for a node under load; not a wait). */
function stall(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}

/**
 * Runs `start` from the loop's check phase (a `setImmediate`), so the next phase is the timers of the
 * next turn, before any poll: what a node whose loop was busy meets.
 */
function fromCheckPhase<T>(start: () => Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => setImmediate(() => start().then(resolve, reject)))
}

describe('a busy event loop (issue 18: one end punched, the other gave up)', () => {
  // The SYN leaves, the kernel completes the connection, and the loop is stalled past the attempt's
  // timer before it polls: the timer must not destroy the connection the kernel already made (the
  // peer would report a punched connection that then closes).
  it('an attempt timer that fires late keeps the connection the kernel completed meanwhile', async () => {
    const { port, accepted } = await listen()
    const result = await fromCheckPhase(() =>
      simultaneousOpen({
        host: HOST,
        ports: [port],
        localPort: 0,
        attemptTimeout: 20,
        timeout: 20_000,
        onAttempt: (_port, n) => {
          // Right after attempt 1's connect() (issued on the next tick), before the loop can poll.
          if (n === 1) process.nextTick(() => process.nextTick(() => stall(100)))
        },
      }),
    )
    sockets.push(result.socket)
    expect(result.attempts).toBe(1)
    // The peer's end of that connection is the one it keeps: no second connection, nothing closed.
    await until(() => accepted.length === 1)
    expect(accepted).toHaveLength(1)
    expect(accepted[0]!.remotePort).toBe(result.socket.localPort)
    expect(accepted[0]!.destroyed).toBe(false)
  })

  it('a deadline that fires late still takes the connection the kernel completed meanwhile', async () => {
    const { port } = await listen()
    const result = await fromCheckPhase(() =>
      simultaneousOpen({
        host: HOST,
        ports: [port],
        localPort: 0,
        attemptTimeout: 10_000,
        timeout: 20,
        onAttempt: () => process.nextTick(() => process.nextTick(() => stall(100))),
      }),
    )
    sockets.push(result.socket)
    expect(result.attempts).toBe(1)
  })
})

describe('the dedicated port (measured design: why the rendezvous connection can stay open)', () => {
  it('a port bound by an explicit bind to port 0 can punch while its server connection is open, and after it closed first (TIME_WAIT)', async () => {
    const rendezvous = await listen()
    const rendezvousCon = await connectLine({
      host: HOST,
      port: rendezvous.port,
      localAddress: HOST,
      localPort: 0,
    })
    const localPort = rendezvousCon.localPort!
    const peer1 = await listen()
    const first = await simultaneousOpen({
      host: HOST,
      ports: [peer1.port],
      localPort,
      localAddress: HOST,
      timeout: 20_000,
    })
    expect(first.socket.localPort).toBe(localPort)
    first.socket.destroy()
    // we close first: our side of the rendezvous connection goes to TIME_WAIT
    rendezvousCon.close()
    await rendezvousCon.closed
    const peer2 = await listen()
    const second = await simultaneousOpen({
      host: HOST,
      ports: [peer2.port],
      localPort,
      localAddress: HOST,
      timeout: 20_000,
    })
    expect(second.attempts).toBe(1)
    second.socket.destroy()
  })
})
