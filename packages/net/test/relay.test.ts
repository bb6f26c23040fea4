// Circuit relay at the Net (issue 14), on loopback: two nodes that accept no connection (active) reach
// each other through a circuit at their bootstrap server, where the target holds a reservation; the
// connection shows how it was made at both ends; `circuitRelay: false` leaves the pair with no method.

import { relayOf, UNL } from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { createTestnet } from '../../testnet/src/index.js'
import { nextConnection } from './helpers.js'

/**
 * Bob's UNL as a node elsewhere would see it: on loopback every node shares one WAN address and
 * would be dialled on the LAN, so this one says it is behind another NAT and not listening.
 */
function elsewhere(text: string): string {
  const f = UNL.parse(text).toFields()
  return new UNL({ ...f, wanAddress: '11.0.0.99', lanAddress: '', port: 0 }).text
}

describe('circuit relay (Net)', () => {
  it('an active node holds a reservation, its UNL names the relay, and another active node connects by relay', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    // On loopback a relayed pair moves to a LAN connection at once (relayUpgrade): kept relayed here,
    // so both ends still say 'relay' when checked (the move itself: relay-upgrade.test.ts).
    const bob = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const alice = await tn.createNode({ nodeType: 'active', advertise: false, relayUpgrade: false })
    const named = relayOf(UNL.parse(bob.unl.value))
    expect(named).toBeDefined()
    expect(`${named!.host}:${named!.port}`).toBe(tn.serverAddress)
    const arrived = nextConnection(bob)
    const con = await alice.unl.connect(elsewhere(bob.unl.value))
    const theirs = await arrived
    expect(alice.info(con)).toMatchObject({ method: 'relay', direction: 'outbound', nodeId: bob.nodeId })
    expect(alice.info(con)?.reason).toContain(`relay at ${tn.serverAddress}`)
    expect(theirs.info).toMatchObject({ method: 'relay', direction: 'inbound', nodeId: alice.nodeId })
    con.sendLine('over the circuit')
    expect(await theirs.con.readLine({ timeout: 10_000 })).toBe('over the circuit')
  })

  it('circuitRelay: false: no reservation, no relay method', async () => {
    await using tn = await createTestnet({ nodes: 0 })
    const bob = await tn.createNode({ nodeType: 'active', advertise: false, circuitRelay: false })
    const alice = await tn.createNode({ nodeType: 'active', advertise: false, circuitRelay: false })
    expect(relayOf(UNL.parse(bob.unl.value))).toBeUndefined()
    await expect(alice.unl.connect(elsewhere(bob.unl.value))).rejects.toMatchObject({ code: 'ERR_NO_METHOD' })
  })
})
