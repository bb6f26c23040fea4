// Issue 18: a plain (`secure: false`) punch between two connectors whose RendezvousPuncher is given
// rawLineOptions() (as Net does, so secure punches leave the socket to the handshake). The punched
// LineSocket's lines travel over a PassThrough, which hands a connection's own lines back to it: the
// plain upgrade must read and write the socket itself, not that LineSocket (seen in the lab as the
// dialler "connected to itself": its own greeting came back, the target never saw the hello).
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import { LineSocket } from '@pyp2p/framing'
import { describe, expect, it } from 'vitest'
import type { IncomingConnection } from '../src/index.js'
import { linesOn } from '../src/raw-socket.js'
import { punchArena, WAIT } from './punch-nodes.js'

const { punchNode, cleanups } = punchArena()
const plainNode = (wan: string) => punchNode(wan, { secure: false })

describe('plain punch', () => {
  it('the lines cross between the two nodes; neither gets its own back', async () => {
    const a = await plainNode('127.0.0.2')
    const b = await plainNode('127.0.0.3')
    // Without the fix b never reads a's hello (it went into a's PassThrough): no connection event.
    const incoming = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'punch', secure: false })
    result.connection.sendLine(`hello ${a.identity.nodeId}`)
    const [other] = (await incoming) as [IncomingConnection]
    expect(other).toMatchObject({ method: 'punch', secure: false, nodeId: a.identity.nodeId })
    cleanups.push(() => other.connection.close())
    cleanups.push(() => result.connection.close())
    other.connection.sendLine(`hello ${b.identity.nodeId}`)
    expect(await result.connection.readLine({ timeout: WAIT })).toBe(`hello ${b.identity.nodeId}`)
    expect(await other.connection.readLine({ timeout: WAIT })).toBe(`hello ${a.identity.nodeId}`)
  })

  it('linesOn(): a LineSocket whose lines go over another stream does not count as reading its socket', async () => {
    const { createServer, connect } = await import('node:net')
    const srv = createServer()
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
    cleanups.push(() => new Promise((resolve) => srv.close(resolve)))
    const socket = connect({ host: '127.0.0.1', port: (srv.address() as { port: number }).port })
    cleanups.push(() => socket.destroy())
    const raw = new LineSocket(socket, { stream: new PassThrough() })
    expect(linesOn(raw)).toBeUndefined()
    expect(linesOn(socket)).toBeUndefined()
    const reading = new LineSocket(socket)
    expect(linesOn(reading)).toBe(reading)
  })
})
