import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { BootstrapServer, RendezvousService } from '../src/index.js'
import { nodeId, startServer, TestClient, until, WAIT_MS } from './helpers.js'

let server: BootstrapServer
let port: number
const clients: TestClient[] = []
const raws: Socket[] = []

async function client(localAddress?: string): Promise<TestClient> {
  const c = await TestClient.connect(port, localAddress)
  clients.push(c)
  return c
}

/** A plain socket that connected and got its HELLO line. */
function rawSocket(localAddress: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress })
    raws.push(s)
    s.once('error', reject)
    s.once('data', () => resolve(s))
  })
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  for (const s of raws.splice(0)) s.destroy()
  await server?.close()
})

describe('bad input and load', () => {
  it('an overlong line closes only that connection, after ERR_LINE_TOO_LONG', async () => {
    ;({ server, port } = await startServer())
    const bad = await client()
    const good = await client()
    bad.send(`BOOTSTRAP ${'9'.repeat(2000)}`)
    expect(await bad.next()).toMatchObject({ type: 'ERROR', code: 'ERR_LINE_TOO_LONG' })
    expect(await bad.closed()).toBe('peer')
    expect(await good.request('BOOTSTRAP 1')).toEqual({ type: 'NODES', nodes: [] })
  })

  it('a line with no end (past the framing limit) closes only that connection', async () => {
    ;({ server, port } = await startServer())
    const good = await client()
    const bad = await rawSocket('127.0.0.2')
    const closed = new Promise((resolve) => bad.on('close', resolve))
    bad.on('error', () => {})
    bad.write('x'.repeat(64 * 1024))
    await closed
    expect(await good.request('SOURCE TCP 1')).toEqual({ type: 'REMOTE', port: good.localPort })
  })

  it('a whole line past the framing limit closes only that connection; split lines still work', async () => {
    ;({ server, port } = await startServer())
    const good = await rawSocket('127.0.0.3')
    const bad = await rawSocket('127.0.0.2')
    const closed = new Promise((resolve) => bad.on('close', resolve))
    bad.on('error', () => {})
    bad.write(`${'x'.repeat(64 * 1024)}\r\n`)
    await closed
    // A line in pieces, each its own read on the server (the reply to the first proves it was read).
    let got = ''
    good.setEncoding('latin1')
    const reply = (count: number): Promise<string[]> =>
      new Promise((resolve) => {
        const onData = (d: string): void => {
          got += d
          const lines = got.split('\r\n')
          if (lines.length > count) {
            good.off('data', onData)
            resolve(lines.slice(0, count))
          }
        }
        good.on('data', onData)
      })
    const first = reply(1)
    good.write('PING one\r\nSOURCE T')
    expect(await first).toEqual(['PONG one'])
    got = ''
    const rest = reply(2)
    good.write('CP 7\r\nPING two\r\n')
    // (REMOTE names the port the server saw the connection come from.)
    expect(await rest).toEqual([`REMOTE TCP ${good.localPort}`, 'PONG two'])
  })

  it('a flood of lines closes that connection with ERR_FLOOD; others go on', async () => {
    ;({ server, port } = await startServer({ lineRate: 10, lineBurst: 20 }))
    const good = await client()
    const bad = await client('127.0.0.2')
    bad.con.socket.write('PING x\r\n'.repeat(1000))
    let last = await bad.next()
    while (last.type === 'PONG') last = await bad.next()
    expect(last).toMatchObject({ type: 'ERROR', code: 'ERR_FLOOD' })
    expect(await bad.closed()).toBe('peer')
    expect(await good.request('PING y')).toEqual({ type: 'PONG', token: 'y' })
  })

  it('serves a client while 2,000 idle and slow connections are open', async () => {
    // All from 127.0.1.0/24: this test is about load, not the per-prefix limit.
    ;({ server, port } = await startServer({ maxConnectionsPerIp: 10_000, maxConnectionsPerPrefix: 10_000 }))
    const sockets: Socket[] = []
    // In batches, as clients arrive in practice (and to stay inside the accept backlog).
    for (let batch = 0; batch < 8; batch++) {
      const opened: Promise<Socket>[] = []
      for (let i = 0; i < 250; i++) opened.push(rawSocket(`127.0.1.${1 + ((batch * 250 + i) % 200)}`))
      sockets.push(...(await Promise.all(opened)))
    }
    // Half of them are slow: a partial line, never finished.
    for (const s of sockets.slice(0, 1000)) s.write('BOOTSTR')
    expect(server.stats().connections).toBe(2000)
    const c = await client()
    expect(await c.request('BOOTSTRAP 5')).toEqual({ type: 'NODES', nodes: [] })
    expect(await c.request(`PASSIVE READY 1 1 ${nodeId(1)}`)).toEqual({ type: 'OK', what: 'PASSIVE' })
  })

  it('closes idle connections but not simultaneous nodes', async () => {
    ;({ server, port } = await startServer({ idleTimeoutMs: 100, sweepIntervalMs: 20 }))
    const idle = await client()
    const slow = await rawSocket('127.0.0.2')
    const slowClosed = new Promise((resolve) => slow.on('close', resolve))
    slow.write('PASSIVE READY')
    const sim = await client()
    expect((await sim.request(`SIMULTANEOUS READY 9 1 ${nodeId(5)}`)).type).toBe('OK')
    expect(await idle.next()).toMatchObject({ type: 'ERROR', code: 'ERR_IDLE_TIMEOUT' })
    expect(await idle.closed()).toBe('peer')
    await slowClosed
    expect(sim.con.isOpen).toBe(true)
    expect(await sim.request('PING still')).toEqual({ type: 'PONG', token: 'still' })
    expect(server.stats()).toMatchObject({ connections: 1, simultaneousNodes: 1 })
  })

  it('refuses connections over the per-IP and total limits with ERR_TOO_MANY_CONNECTIONS', async () => {
    ;({ server, port } = await startServer({ maxConnectionsPerIp: 2, maxConnections: 3 }))
    await client('127.0.0.2')
    await client('127.0.0.2')
    const third = await readRefusal('127.0.0.2')
    expect(third).toMatch(/^ERROR ERR_TOO_MANY_CONNECTIONS /)
    await client('127.0.0.3')
    expect(await readRefusal('127.0.0.4')).toMatch(/^ERROR ERR_TOO_MANY_CONNECTIONS /)
    expect(server.stats().connections).toBe(3)
  })

  it('routes other command families to services, which may extend HELLO', async () => {
    const seen: string[] = []
    const closedIds: number[] = []
    const echo: RendezvousService = {
      name: 'echo',
      commands: ['ECHO'],
      helloExtensions: ['ECHO/1'],
      maxLineLength: 3000,
      handleLine(conn, line) {
        seen.push(line)
        if (line === 'ECHO boom') throw new Error('service bug')
        conn.send(`ECHOED ${line.slice(5)}`)
      },
      connectionClosed(conn) {
        closedIds.push(conn.id)
      },
    }
    ;({ server, port } = await startServer({ services: [echo] }))
    const s = await rawSocket('127.0.0.2')
    const lines: string[] = []
    let buffered = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      buffered += d
      const parts = buffered.split('\r\n')
      buffered = parts.pop() ?? ''
      lines.push(...parts)
    })
    const long = 'x'.repeat(2500)
    s.write(`ECHO hi\r\nECHO boom\r\nBOOTSTRAP 1\r\nECHO ${long}\r\n`)
    await until(() => lines.length >= 4, 'four replies')
    expect(lines).toEqual([
      'ECHOED hi',
      'ERROR ERR_INTERNAL internal server error',
      'NODES EMPTY',
      `ECHOED ${long}`,
    ])
    // The service's longer limit does not apply to rendezvous lines.
    s.write(`BOOTSTRAP ${'1'.repeat(2000)}\r\n`)
    await until(() => lines.length >= 5, 'the line-too-long error')
    expect(lines[4]).toMatch(/^ERROR ERR_LINE_TOO_LONG /)
    s.destroy()
    await until(() => closedIds.length === 1, 'connectionClosed')
    const raw = await import('@pyp2p/framing').then((m) => m.connectLine({ host: '127.0.0.1', port }))
    // The embedded relay's word comes first, then the services' own.
    expect(await raw.readLine({ timeout: WAIT_MS })).toMatch(
      /^HELLO PYP2P\/1 127\.0\.0\.1 \d+ nonce=[A-Za-z0-9_-]{22} server=[A-Za-z0-9_-]{16} proofs=connection lifetime=86400 PYP2P-MSG\/1 PYP2P-CIRCUIT\/1 ECHO\/1$/,
    )
    raw.close()
  })
})

function readRefusal(localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, localAddress })
    raws.push(s)
    let text = ''
    s.setEncoding('utf8')
    s.on('data', (d: string) => {
      text += d
    })
    s.on('error', reject)
    s.on('close', () => resolve(text.trim()))
  })
}
