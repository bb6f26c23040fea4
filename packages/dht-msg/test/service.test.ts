import { EventEmitter } from 'node:events'
import { createServer, type Socket } from 'node:net'
import { LineSocket } from '@pyp2p/framing'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_RELAY_LINE_LENGTH, NodeIdentity, type TransportMessage } from '../src/index.js'
import { RelayServer, type RelayService, type SharedConnection } from '../src/server.js'
import { client, HOST, next, WAIT, within } from './helpers.js'

const cleanups: Array<() => unknown> = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
})

/**
 * A host server shaped like bootstrap-server's service seam: greets with HELLO, answers PING and QUIT
 * itself, and hands lines starting with a service's command words to that service.
 */
async function hostServer(service: RelayService) {
  const held = new Set<string>()
  const pings = new EventEmitter()
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    const con = new LineSocket(socket)
    const conn: SharedConnection = {
      ip: socket.remoteAddress ?? '',
      port: socket.remotePort ?? 0,
      get isOpen() {
        return con.isOpen
      },
      send: (line) => {
        if (!con.isOpen) return false
        con.sendLine(line)
        return true
      },
      close: (code, text) => {
        if (code !== undefined && con.isOpen) con.sendLine(`ERROR ${code} ${text ?? ''}`)
        con.close()
      },
      hold: (h) => {
        if (h) held.add(`${conn.ip}:${conn.port}`)
      },
    }
    con.sendLine(`HELLO PYP2P/1 ${conn.ip} ${conn.port} ${service.helloExtensions.join(' ')}`)
    con.on('line', (line) => {
      const word = line.split(' ', 1)[0]!
      if (service.commands.includes(word)) service.handleLine(conn, line)
      else if (word === 'PING') {
        con.sendLine(`PONG ${line.split(' ')[1]}`)
        pings.emit('ping')
      } else if (word === 'QUIT') con.close()
      else con.sendLine('ERROR ERR_UNKNOWN_COMMAND not a rendezvous command')
    })
    con.once('close', () => service.connectionClosed(conn))
  })
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve))
  cleanups.push(() => {
    for (const s of sockets) s.destroy()
    return new Promise((resolve) => server.close(resolve))
  })
  return { port: (server.address() as { port: number }).port, held, pings }
}

describe('RelayServer.service() on a shared server', () => {
  it('declares its line limit so the host accepts relay lines past its own limit', async () => {
    const relay = new RelayServer()
    cleanups.push(() => relay.close())
    expect(relay.service().maxLineLength).toBe(MAX_RELAY_LINE_LENGTH)
    const small = new RelayServer({ maxLineLength: 2000 })
    cleanups.push(() => small.close())
    expect(small.service().maxLineLength).toBe(2000)
  })

  it('authenticates, delivers, holds the connection and answers through the host', async () => {
    const relay = new RelayServer()
    cleanups.push(() => relay.close())
    const host = await hostServer(relay.service())
    const alice = await client(host.port, { keepAlive: 50 })
    const bob = await client(host.port)
    cleanups.push(
      () => alice.close(),
      () => bob.close(),
    )
    expect(host.held.size).toBe(2)
    const got = next<TransportMessage>(bob, 'message')
    await alice.send(bob.nodeId, 'through a shared port')
    expect(await got).toMatchObject({
      from: alice.nodeId,
      message: 'through a shared port',
      fromAddress: HOST,
    })
    // Keep-alive PINGs (every 50 ms here) are answered by the host; the connection stays up across them.
    const events: string[] = []
    alice.on('warning', (w) => events.push(`warning ${w.code}`))
    alice.on('disconnected', () => events.push('disconnected'))
    await within(
      new Promise<void>((resolve) => {
        let n = 0
        host.pings.on('ping', () => ++n === 3 && resolve())
      }),
    )
    const again = next<TransportMessage>(alice, 'message')
    await bob.send(alice.nodeId, 'still here')
    expect((await again).message).toBe('still here')
    expect(alice.isConnected).toBe(true)
    expect(events).toEqual([])
  })

  it('refuses a wrong key through the host with an ERROR line and a close', async () => {
    const relay = new RelayServer()
    cleanups.push(() => relay.close())
    const host = await hostServer(relay.service())
    const bob = NodeIdentity.generate()
    const mallory = NodeIdentity.generate()
    const { connectLine } = await import('@pyp2p/framing')
    const con = await connectLine({ host: HOST, port: host.port, timeout: WAIT })
    expect(await con.readLine({ timeout: WAIT })).toMatch(/^HELLO PYP2P\/1 .* PYP2P-MSG\/1$/)
    con.sendLine(`RELAY PYP2P-MSG/1 ${bob.nodeId}`)
    const challenge = (await con.readLine({ timeout: WAIT })).split(' ')[1]!
    con.sendLine(`AUTH ${mallory.publicKey} ${mallory.signChallenge(challenge)}`)
    expect(await con.readLine({ timeout: WAIT })).toMatch(/^ERROR ERR_AUTH_FAILED /)
    expect((await con.closed).reason).toBe('peer')
    expect(host.held.size).toBe(0)
  })
})
