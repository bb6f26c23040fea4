// Unsolicited PCP ANNOUNCE (RFC 6887 section 14.1.3): a restarted gateway's ANNOUNCE re-maps at once,
// not at the next renewal; ANNOUNCEs that show no restart, come from elsewhere or are garbage change
// nothing. A fake gateway on loopback; the listener on a port from the OS instead of 5350.
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { afterEach, describe, expect, it } from 'vitest'
import { NatClient, type NatClientOptions } from '../src/nat-client.js'
import { PcpAnnounceListener } from '../src/pcp-announce-listener.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'
import { encodePcpResponse } from './helpers/pcp-wire.js'

type Fake = Awaited<ReturnType<typeof startFakeNatPmp>>
let fake: Fake | undefined
afterEach(() => {
  fake?.close()
  fake = undefined
})

/** A port the OS picks, free at the time of the call (the listener binds it with SO_REUSEADDR). */
async function osPort(): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve))
  const { port } = s.address()
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

const client = (address: string, port: number, extra: NatClientOptions = {}) =>
  new NatClient({
    upnp: false,
    natpmpGateways: [address],
    interfaces: ['lo'],
    timeout: 5_000,
    pcpAnnounce: { port, maxDelayMs: 0 },
    ...extra,
  })

describe('PCP ANNOUNCE from a restarted gateway (fake gateway on loopback)', () => {
  it('re-maps every PCP mapping on it at once: mapping:restored long before the renewal', async () => {
    fake = await startFakeNatPmp({ pcp: true })
    const gw = fake
    const port = await osPort()
    const nat = client(gw.address, port)
    try {
      await nat.map({ internalPort: 5000, ttl: 7200 })
      await nat.map({ internalPort: 5001, ttl: 7200 })
      gw.restart()
      expect(gw.pcpMappings.size).toBe(0)
      const restored: number[] = []
      const both = new Promise<void>((resolve) =>
        nat.on('mapping:restored', (m) => {
          restored.push(m.internalPort)
          if (restored.length === 2) resolve()
        }),
      )
      // the renewals are an hour away (half of 7200 s): only the ANNOUNCE can bring them back now
      await gw.announce(port)
      await both
      expect(restored.sort()).toEqual([5000, 5001])
      expect(gw.pcpMappings.size).toBe(2)
    } finally {
      await nat.close()
    }
    expect(gw.pcpMappings.size).toBe(0)
  })

  it('an ANNOUNCE without a restart, from a stranger, with another result or garbage changes nothing', async () => {
    fake = await startFakeNatPmp({ pcp: true })
    const gw = fake
    const stranger = await startFakeNatPmp({ pcp: true })
    const port = await osPort()
    const nat = client(gw.address, port)
    try {
      await nat.map({ internalPort: 5000, ttl: 7200 })
      const events: string[] = []
      nat.on('mapping:restored', () => events.push('restored'))
      nat.on('mapping:error', () => events.push('error'))
      const requests = gw.requests.length
      await gw.announce(port) // the same epoch: no restart
      stranger.restart()
      await stranger.announce(port) // a restart, but not of our gateway
      await gw.announce(
        port,
        '127.0.0.1',
        encodePcpResponse({ opcode: 0, resultCode: 8, lifetime: 0, epoch: 0 }),
      )
      await gw.announce(port, '127.0.0.1', Buffer.from('garbage, not PCP'))
      await gw.announce(port, '127.0.0.1', Buffer.alloc(2000))
      // a last ANNOUNCE that does show a restart proves the ones before were read (and ignored)
      gw.restart()
      const restored = once(nat, 'mapping:restored')
      await gw.announce(port)
      expect((await restored)[0]).toMatchObject({ internalPort: 5000 })
      expect(events).toEqual(['restored'])
      // one re-map (MAP + the external-address request it may make), nothing for the ignored ones
      expect(gw.requests.length - requests).toBeLessThanOrEqual(2)
    } finally {
      stranger.close()
      await nat.close()
    }
  })

  it('the listener binds beside another on the same port, ignores other source ports, closes idempotently', async () => {
    const port = await osPort()
    const heard: Array<[string, number]> = []
    let heardOne: () => void = () => {}
    const one = new Promise<void>((resolve) => {
      heardOne = resolve
    })
    const onAnnounce = (g: string, e: number) => {
      heard.push([g, e])
      heardOne()
    }
    const a = new PcpAnnounceListener({ port, accepts: () => true, onAnnounce })
    const b = new PcpAnnounceListener({ port, accepts: () => true, onAnnounce: () => {} })
    try {
      // another PCP client on the host holds the port too (SO_REUSEADDR): both bind
      await b.start()
      await a.start()
      expect(a.ports).toContain(port)
      expect(b.ports).toContain(port)
      // unicast goes to one of the sockets sharing a port (multicast to all): leave `a` alone on it
      b.close()
      const sender = createSocket('udp4')
      await new Promise<void>((resolve) => sender.bind(0, '127.0.0.1', resolve))
      const msg = encodePcpResponse({ opcode: 0, resultCode: 0, lifetime: 0, epoch: 7 })
      await new Promise<void>((resolve) => sender.send(msg, port, '127.0.0.1', () => resolve()))
      sender.close()
      fake = await startFakeNatPmp({ pcp: true })
      await fake.announce(port)
      await one
      // only the one from port 5351 counted (datagrams on one socket arrive in order)
      expect(heard).toEqual([[fake.address, expect.any(Number)]])
    } finally {
      a.close()
      a.close()
      b.close()
    }
    expect(a.ports).toEqual([])
  })
})
