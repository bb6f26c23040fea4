/**
 * PrefixClients against a small line server on loopback (real sockets). The bench:attack hang (issue
 * 21): a server that requires signed registrations answered every unsigned READY with an error and kept
 * the connection, so `held` stayed 0 and a wait for it never ended; a silent server left `fill()`
 * waiting forever.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { PrefixClients } from '../src/prefix-clients.js'

const HELLO = 'HELLO PYP2P/1 127.0.0.1 1 nonce=AAAAAAAAAAAAAAAAAAAA server=test'
let server: Server | undefined
let clients: PrefixClients | undefined
const sockets = new Set<Socket>()

/** A server that greets with HELLO (unless silent) and answers each line with `answer(line)`. */
async function lineServer(answer: ((line: string) => string) | 'silent'): Promise<number> {
  server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    if (answer === 'silent') return
    s.write(`${HELLO}\r\n`)
    let buf = ''
    s.setEncoding('latin1')
    s.on('data', (d: string) => {
      buf += d
      for (let n = buf.indexOf('\r\n'); n !== -1; n = buf.indexOf('\r\n')) {
        s.write(`${answer(buf.slice(0, n))}\r\n`)
        buf = buf.slice(n + 2)
      }
    })
  })
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

afterEach(async () => {
  clients?.stop()
  for (const s of sockets) s.destroy()
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)))
  server = undefined
})

describe('PrefixClients', () => {
  it('registers with the line `ready` makes from the whole HELLO (a signing server)', async () => {
    const port = await lineServer((line) =>
      line === `SIGNED ${HELLO}` ? 'OK SIMULTANEOUS' : 'ERROR ERR_SIGNATURE_REQUIRED sign it',
    )
    const seen: number[] = []
    clients = new PrefixClients({
      host: '127.0.0.1',
      port,
      from: () => '127.0.0.1',
      ready: (hello, i) => {
        seen.push(i)
        return `SIGNED ${hello}`
      },
    })
    await clients.fill(3)
    expect(clients.held).toBe(3)
    expect(clients.admitted).toBe(3)
    expect(seen.sort()).toEqual([0, 1, 2])
    expect(clients.codes).toEqual({})
  })

  it('counts a refused connection that stays open as admitted, not held', async () => {
    const port = await lineServer(() => 'ERROR ERR_SIGNATURE_REQUIRED sign it')
    clients = new PrefixClients({ host: '127.0.0.1', port, from: () => '127.0.0.1' })
    await clients.fill(4)
    expect(clients.admitted).toBe(4)
    expect(clients.held).toBe(0)
    expect(clients.codes).toEqual({ ERR_SIGNATURE_REQUIRED: 4 })
  })

  it('fill() ends against a server that never answers (answerTimeoutMs)', async () => {
    const port = await lineServer('silent')
    clients = new PrefixClients({ host: '127.0.0.1', port, from: () => '127.0.0.1', answerTimeoutMs: 50 })
    await clients.fill(3)
    expect(clients.opened).toBe(3)
    expect(clients.admitted).toBe(0)
  }, 20_000)

  it('a `ready` that throws closes that connection and is counted, not thrown', async () => {
    const port = await lineServer(() => 'OK SIMULTANEOUS')
    clients = new PrefixClients({
      host: '127.0.0.1',
      port,
      from: () => '127.0.0.1',
      reopenDelayMs: 60_000,
      ready: () => {
        throw new Error('no key')
      },
    })
    await clients.fill(1)
    expect(clients.codes.READY_FAILED).toBe(1)
    expect(clients.held).toBe(0)
    expect(clients.admitted).toBe(0)
  })
})
