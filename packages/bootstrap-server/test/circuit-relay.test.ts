/**
 * The embedded circuit relay (@pyp2p/relay) on the bootstrap server's port: a node reserves, a dialler
 * gets a circuit to it, and the bytes flow; the spliced connections leave the line protocol alone and
 * free their slots when they close. `circuitRelay: false` turns it off.
 */
import { once } from 'node:events'
import { connectLine } from '@pyp2p/framing'
import { NodeIdentity } from '@pyp2p/identity'
import { CircuitReservation, dialCircuit, type IncomingCircuit } from '@pyp2p/relay'
import { describe, expect, it } from 'vitest'
import { startServer } from './helpers.js'

describe('embedded circuit relay', () => {
  it('is on by default: HELLO says PYP2P-CIRCUIT/1, a reserved node is reached through a circuit', async () => {
    const { server, port } = await startServer()
    const hello = await connectLine({ host: '127.0.0.1', port })
    expect(await hello.readLine()).toMatch(/ PYP2P-CIRCUIT\/1( |$)/)
    hello.close()
    const bob = await CircuitReservation.open({ host: '127.0.0.1', port, identity: NodeIdentity.generate() })
    const incoming = once(bob, 'incoming') as Promise<[IncomingCircuit]>
    const a = await dialCircuit({ host: '127.0.0.1', port, target: bob.nodeId, nodeId: '1'.repeat(40) })
    const [b] = await incoming
    // Bytes that are not lines at all (an encrypted stream would look like this) pass untouched.
    const blob = Buffer.from([0, 1, 2, 13, 10, 255, 0x43, 0x49, 0x52, 10])
    const got = new Promise<Buffer>((resolve) => b.socket.once('data', resolve))
    b.socket.resume()
    a.socket.write(blob)
    expect((await got).equals(blob)).toBe(true)
    expect(server.stats().connections).toBe(3)
    a.socket.destroy()
    await once(b.socket, 'close')
    bob.close()
    await server.close()
    expect(server.stats().connections).toBe(0)
  })

  it('a circuit to a node without a reservation: ERR_NO_RESERVATION', async () => {
    const { server, port } = await startServer()
    await expect(
      dialCircuit({ host: '127.0.0.1', port, target: 'a'.repeat(40), nodeId: '1'.repeat(40) }),
    ).rejects.toMatchObject({ code: 'ERR_NO_RESERVATION' })
    await server.close()
  })

  it('circuitRelay: false serves none', async () => {
    const { server, port } = await startServer({ circuitRelay: false })
    const con = await connectLine({ host: '127.0.0.1', port })
    expect(await con.readLine()).not.toMatch(/PYP2P-CIRCUIT/)
    await expect(
      CircuitReservation.open({
        host: '127.0.0.1',
        port,
        identity: NodeIdentity.generate(),
        reconnect: false,
      }),
    ).rejects.toMatchObject({ code: 'ERR_PROTOCOL' })
    con.close()
    await server.close()
  })
})
