/**
 * IPv6 in the UNL (TLV_IPV6_ADDRESS): `start()` lists the IPv6 address we listen on, and a peer that
 * has IPv6 too dials it when the IPv4 WAN address does not answer. On loopback (::1).
 */
import { once } from 'node:events'
import { createServer } from 'node:net'
import { ipv6Of, UNL } from '@pyp2p/unl'
import { describe, expect, it } from 'vitest'
import { Net } from '../src/index.js'
import { advertisedIpv6, isGlobalIpv6 } from '../src/local-addresses.js'

const base = { passivePort: 0, enableForwarding: false, netType: 'direct' } as const

/** A TCP port on 127.0.0.2 where nothing listens (the OS picked it, then it was closed). */
async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.2')
  await once(s, 'listening')
  const { port } = s.address() as { port: number }
  await new Promise((resolve) => s.close(resolve))
  return port
}

describe('IPv6 addresses in the UNL', () => {
  it('start() lists the IPv6 address; a peer with IPv6 dials it after the IPv4 one fails', async () => {
    await using a = new Net({ ...base, passiveBind: '::1', ipv6Address: '::1' })
    await a.start()
    expect(ipv6Of(a.unl.unl)).toBe('::1')
    await using b = new Net({ ...base, passiveBind: '127.0.0.1', ipv6Address: '::1' })
    await b.start()
    // a's UNL as a node behind a NAT without forwarding would have it: its IPv4 WAN address does not answer
    const theirs = new UNL({
      ...a.unl.unl.toFields(),
      wanAddress: '127.0.0.2',
      externalPort: await closedPort(),
    })
    const methods: string[] = []
    const con = await b.unl.connect(theirs, { success: (_c, info) => methods.push(info.method) })
    expect(methods).toEqual(['direct'])
    expect(con.remoteAddress).toBe('::1')
    con.sendLine('over IPv6')
  })

  it('without an IPv6 address of ours the peer is dialled over IPv4 only (no change for IPv4 nodes)', async () => {
    await using a = new Net({ ...base, passiveBind: '::1', ipv6Address: '::1' })
    await a.start()
    await using b = new Net({ ...base, passiveBind: '127.0.0.1' })
    await b.start()
    expect(ipv6Of(b.unl.unl)).toBeUndefined()
    const theirs = new UNL({
      ...a.unl.unl.toFields(),
      wanAddress: '127.0.0.2',
      externalPort: await closedPort(),
    })
    await expect(b.unl.connect(theirs)).rejects.toMatchObject({ code: 'ERR_CONNECT_FAILED' })
  })

  it('which address is listed: the option, the IPv6 bind, a global one on ::, none on IPv4', () => {
    expect(advertisedIpv6('0.0.0.0', undefined)).toBeUndefined()
    expect(advertisedIpv6('2001:db8::5', undefined)).toBe('2001:db8::5')
    expect(advertisedIpv6('::1', undefined)).toBeUndefined()
    expect(advertisedIpv6('fe80::1', undefined)).toBeUndefined()
    expect(advertisedIpv6('::1', '::1')).toBe('::1')
    expect(advertisedIpv6('2001:db8::5', false)).toBeUndefined()
    const onAll = advertisedIpv6('::', undefined)
    expect(onAll === undefined || isGlobalIpv6(onAll)).toBe(true)
    expect(['2001:db8::1', '2a00::1', '3fff::1'].map(isGlobalIpv6)).toEqual([true, true, true])
    expect(['fd00:1::2', 'fe80::1', '::1', '::ffff:1.2.3.4', '1.2.3.4', 'ff02::1'].map(isGlobalIpv6)).toEqual(
      [false, false, false, false, false, false],
    )
    expect(() => new Net({ ipv6Address: '1.2.3.4' })).toThrow(/ipv6Address/)
  })
})
