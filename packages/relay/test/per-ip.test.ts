import { NodeIdentity } from '@pyp2p/identity'
import { describe, expect, it } from 'vitest'
import { RESERVE_CONTEXT } from '../src/constants.js'
import { resolveRelayOptions } from '../src/relay-options.js'
import { type ControlConnection, Reservations } from '../src/reservations.js'

const conn = (ip: string): ControlConnection => ({ ip, isOpen: true, send: () => true, close: () => {} })

function prove(table: Reservations, c: ControlConnection) {
  const me = NodeIdentity.generate()
  const nonce = table.challenge(c, me.nodeId)
  return table.prove(c, me.publicKey, me.sign(RESERVE_CONTEXT, [nonce, me.nodeId]).toString('base64url'))
}

describe('reservations per IP', () => {
  it('an IPv4-mapped IPv6 address counts as its IPv4 address', () => {
    const table = new Reservations(resolveRelayOptions({ maxReservationsPerIp: 1 }))
    const v4 = conn('127.0.0.1')
    prove(table, v4)
    expect(() => prove(table, conn('::ffff:127.0.0.1'))).toThrow(
      expect.objectContaining({
        code: 'ERR_RELAY_FULL',
        message: expect.stringMatching(/reservations per IP/),
      }),
    )
    table.remove(v4)
    expect(prove(table, conn('::ffff:127.0.0.1')).added.conn.ip).toBe('::ffff:127.0.0.1')
  })
})
