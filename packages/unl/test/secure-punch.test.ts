// A secure punch on loopback through a real @pyp2p/bootstrap-server: the candidate (the side that
// called connect()) is the handshake's initiator and names the target's id; the target accepts and
// checks the candidate's proved id against the one the server named. RendezvousPuncher is given
// rawLineOptions() so its punched LineSockets leave the socket to the handshake.
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { IncomingConnection } from '../src/index.js'
import { punchArena, WAIT } from './punch-nodes.js'

const { punchNode: secureNode } = punchArena()

describe('secure punch', () => {
  it('connects two simultaneous nodes, encrypted, each proving its id', async () => {
    const a = await secureNode('127.0.0.2')
    const b = await secureNode('127.0.0.3')
    const incoming = once(b.connector, 'connection', { signal: AbortSignal.timeout(WAIT) })
    const result = await a.connector.connectWithReport(b.unl, { timeout: WAIT })
    expect(result).toMatchObject({ method: 'punch', secure: true })
    const [other] = (await incoming) as [IncomingConnection]
    expect(other).toMatchObject({ method: 'punch', secure: true, nodeId: a.identity.nodeId })
    result.connection.sendLine('through the punched hole')
    expect(await other.connection.readLine({ timeout: WAIT })).toBe('through the punched hole')
    other.connection.sendLine('and back')
    expect(await result.connection.readLine({ timeout: WAIT })).toBe('and back')
    result.connection.close()
    other.connection.close()
  })
})
