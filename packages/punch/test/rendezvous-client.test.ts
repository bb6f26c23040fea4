import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PunchError, RendezvousClient } from '../src/index.js'

/**
 * A scripted rendezvous server on a real socket, for orderings the real server produces only by
 * timing: `script(line)` returns the raw text to write back for each client line, all in one write.
 */
async function scripted(script: (line: string) => string): Promise<{ kill(): void; port: number }> {
  const sockets: Socket[] = []
  const server = createServer((s) => {
    sockets.push(s)
    s.on('error', () => {})
    s.write(`HELLO PYP2P/1 127.0.0.1 ${s.remotePort}\r\n`)
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString()
      for (let i = buf.indexOf('\r\n'); i !== -1; i = buf.indexOf('\r\n')) {
        const out = script(buf.slice(0, i))
        buf = buf.slice(i + 2)
        if (out !== '') s.write(out)
      }
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const kill = (): void => {
    server.close()
    for (const s of sockets) s.destroy()
  }
  kills.push(kill)
  return { kill, port: (server.address() as { port: number }).port }
}

const kills: Array<() => void> = []
afterEach(() => {
  for (const kill of kills.splice(0)) kill()
})

const A = 'a'.repeat(40)
const B = 'b'.repeat(40)

describe('RendezvousClient reply matching (scripted server)', () => {
  it('keeps a FIGHT that arrives in the same read as PREDICTION SET (bug found in the lab)', async () => {
    const { port } = await scripted((line) =>
      line.startsWith('CANDIDATE') ? 'PREDICTION SET p1\r\nFIGHT p1 127.0.0.1 TCP 5000 3\r\n' : '',
    )
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    const punchId = await c.candidate(B, [4000])
    expect(punchId).toBe('p1')
    expect(await c.waitForFight(punchId, { timeout: 10_000 })).toEqual({
      type: 'FIGHT',
      punchId: 'p1',
      ip: '127.0.0.1',
      ports: [5000],
      delayMs: 3,
    })
    c.close()
  })

  it('answers PING at once and still matches the reply behind it', async () => {
    const seen: string[] = []
    const { port } = await scripted((line) => {
      seen.push(line)
      if (line.startsWith('SOURCE')) return 'PING t1\r\nREMOTE TCP 4242\r\n'
      return line.startsWith('BOOTSTRAP') ? 'NODES EMPTY\r\n' : ''
    })
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    expect(await c.source()).toBe(4242)
    // TCP keeps order: once BOOTSTRAP is answered, the PONG written before it has been read
    expect(await c.bootstrap(1)).toEqual([])
    expect(seen).toContain('PONG t1')
    c.close()
  })

  it('an ERROR punch=<id> for a candidate becomes the punch verdict', async () => {
    const { port } = await scripted((line) =>
      line.startsWith('CANDIDATE')
        ? 'PREDICTION SET p2\r\nERROR ERR_PEER_GONE punch=p2 the target left\r\n'
        : '',
    )
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    const punchId = await c.candidate(B, [4000])
    const err = await c.waitForFight(punchId, { timeout: 10_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PunchError)
    expect(err).toMatchObject({ code: 'ERR_PEER_GONE', stage: 'coordination' })
    c.close()
  })

  it('an unparsable reply fails the request it answered with ERR_PROTOCOL, the connection goes on', async () => {
    const { port } = await scripted((line) =>
      line.startsWith('BOOTSTRAP') ? 'NODES x:y\r\n' : line.startsWith('SOURCE') ? 'REMOTE TCP 7\r\n' : '',
    )
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    const err = await c.bootstrap(5).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_PROTOCOL' })
    expect(await c.source()).toBe(7)
    c.close()
  })

  it('rejects pending requests with ERR_SERVER_UNREACHABLE when the server goes away', async () => {
    const { kill, port } = await scripted(() => '')
    const c = await RendezvousClient.connect({ server: { host: '127.0.0.1', port }, nodeId: A })
    const pending = c.bootstrap(5).catch((e: unknown) => e)
    kill()
    expect(await pending).toMatchObject({ code: 'ERR_SERVER_UNREACHABLE' })
  })
})
