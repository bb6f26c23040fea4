import { createServer, type Socket } from 'node:net'
import { connectLine, LineSocket } from '@pyp2p/framing'
import { manualClock } from '@pyp2p/limits'
import { afterEach, describe, expect, it } from 'vitest'
import { RelayClient, RelayError, type TransportMessage } from '../src/index.js'
import { client, HOST, next, startRelay, WAIT, within } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

async function relay(options: Parameters<typeof startRelay>[0] = {}) {
  const r = await startRelay(options)
  cleanups.push(() => r.server.close())
  return r
}

describe('relay connection limits', () => {
  it('rate-limits authentication attempts per address, refilling on the injected clock', async () => {
    const clock = manualClock()
    const { port } = await relay({ clock, authLimit: { burst: 1, perSecond: 1 } })
    const first = await client(port)
    cleanups.push(() => first.close())
    await expect(client(port)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    clock.advance(999)
    await expect(client(port)).rejects.toMatchObject({ code: 'ERR_RATE_LIMITED' })
    clock.advance(1)
    const second = await client(port)
    cleanups.push(() => second.close())
  })

  it('refuses connections over maxConnections', async () => {
    const { port } = await relay({ maxConnections: 1 })
    const first = await client(port)
    cleanups.push(() => first.close())
    const err = await client(port).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(RelayError)
    expect(err).toMatchObject({ code: 'ERR_RELAY_FULL' })
  })

  it('closes a connection that does not finish the handshake in time', async () => {
    const { port } = await relay({ handshakeTimeout: 50 })
    const con = await connectLine({ host: HOST, port, timeout: WAIT })
    expect((await con.closed).reason).toBe('peer')
  })

  it('refuses an unknown protocol version in the first line', async () => {
    const { port } = await relay()
    const con = await connectLine({ host: HOST, port, timeout: WAIT })
    con.sendLine(`RELAY PYP2P-MSG/9 ${'a'.repeat(40)}`)
    expect(await con.readLine({ timeout: WAIT })).toMatch(/^ERROR ERR_PROTOCOL .*unsupported version/)
    await con.closed
  })

  it('iterates messages with for await', async () => {
    const { port } = await relay()
    const alice = await client(port)
    const bob = await client(port)
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    )
    await alice.send(bob.nodeId, 'via iterator')
    for await (const m of bob) {
      expect(m).toMatchObject<Partial<TransportMessage>>({ from: alice.nodeId, message: 'via iterator' })
      break
    }
  })

  it('drops a connection whose PINGs go unanswered, and reconnects', async () => {
    const fake = await fakeRelay(() => {})
    const c = await client(fake.port, { keepAlive: 50 })
    cleanups.push(() => c.close())
    const dropped = next(c, 'disconnected')
    const again = next(c, 'connected')
    await dropped
    await again
    expect(fake.accepted()).toBeGreaterThanOrEqual(2)
  })

  it('reports ERROR lines and unreadable lines nobody waited for as warnings', async () => {
    const fake = await fakeRelay((con) => {
      con.sendLine('ERROR ERR_BAD_LINE Malformed line: something you sent')
      con.sendLine('GIBBERISH')
    })
    const c = new RelayClient({ host: HOST, port: fake.port })
    cleanups.push(() => c.close())
    const warnings: RelayError[] = []
    const two = new Promise<void>((resolve) =>
      c.on('warning', (w) => {
        warnings.push(w)
        if (warnings.length === 2) resolve()
      }),
    )
    await c.start({ signal: AbortSignal.timeout(WAIT) })
    await within(two)
    expect(warnings.map((w) => w.code)).toEqual(['ERR_BAD_LINE', 'ERR_PROTOCOL'])
  })
})

/** A relay that completes the handshake without checking it, then runs `afterWelcome` and stays silent. */
async function fakeRelay(afterWelcome: (con: LineSocket) => void) {
  let accepted = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    accepted += 1
    sockets.add(socket)
    const con = new LineSocket(socket)
    void con.readLine({ timeout: WAIT }).then(
      async (hello) => {
        con.sendLine('CHALLENGE abc')
        await con.readLine({ timeout: WAIT })
        con.sendLine(`WELCOME ${hello.split(' ')[2]} ${HOST} 1`)
        afterWelcome(con)
      },
      () => con.close(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  cleanups.push(() => {
    for (const socket of sockets) socket.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return { port: (server.address() as { port: number }).port, accepted: () => accepted }
}
