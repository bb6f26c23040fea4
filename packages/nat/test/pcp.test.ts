import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NatClient, type NatClientOptions } from '../src/nat-client.js'
import { newPcpNonce, pcpAnnounce, pcpExternalAddress, pcpMap } from '../src/pcp-client.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'
import { encodePcpResponse, parsePcpRequest } from './helpers/pcp-wire.js'

type Fake = Awaited<ReturnType<typeof startFakeNatPmp>>
let fake: Fake | undefined
afterEach(() => {
  vi.useRealTimers()
  fake?.close()
  fake = undefined
})

const udpCount = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap').length
/** Open UDP sockets once the handles of sockets closed just before are freed (a few loop turns). */
async function settledUdpCount(): Promise<number> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r))
  return udpCount()
}
/** Lets libuv free closed handles (one loop turn after 'close'), then counts the open UDP sockets. */
async function udpSockets(expected: number): Promise<number> {
  for (let i = 0; i < 20 && udpCount() !== expected; i++) await new Promise((r) => setImmediate(r))
  return udpCount()
}

describe('PCP client (fake gateway on loopback)', () => {
  it('ANNOUNCE: the epoch from a PCP gateway, ERR_UNSUPPORTED_VERSION from a NAT-PMP-only one', async () => {
    fake = await startFakeNatPmp({ pcp: true })
    expect((await pcpAnnounce(fake.address)).epoch).toBeGreaterThanOrEqual(1000)
    fake.set({ pcp: false })
    await expect(pcpAnnounce(fake.address)).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_VERSION',
      natpmpCode: 1,
    })
  })

  it('MAP (same nonce renews the same port), delete with lifetime 0, and the external address probe', async () => {
    fake = await startFakeNatPmp({ pcp: true, pcpMaxLifetime: 300 })
    const nonce = newPcpNonce()
    const args = { protocol: 'UDP' as const, internalPort: 4000, externalPort: 4000, nonce }
    const grant = await pcpMap(fake.address, { ...args, lifetime: 3600 }, {})
    expect(grant).toMatchObject({
      internalAddress: '127.0.0.1',
      externalAddress: '11.0.0.100',
      externalPort: 4000,
      lifetime: 300, // capped by the gateway
    })
    const again = await pcpMap(fake.address, { ...args, externalPort: 0, lifetime: 3600 }, {})
    expect(again.externalPort).toBe(4000)
    expect(fake.pcpMappings.size).toBe(1)
    // another nonce for the same internal port is someone else: refused
    await expect(
      pcpMap(fake.address, { ...args, nonce: newPcpNonce(), lifetime: 60 }, {}),
    ).rejects.toMatchObject({ code: 'ERR_NOT_AUTHORIZED', pcpCode: 2 })
    await pcpMap(fake.address, { ...args, externalPort: 0, lifetime: 0 }, {})
    expect(fake.pcpMappings.size).toBe(0)
    const before = await settledUdpCount()
    expect(await pcpExternalAddress(fake.address)).toMatchObject({ address: '11.0.0.100' })
    expect(fake.pcpMappings.size).toBe(0) // the probe mapping was deleted again
    expect(await udpSockets(before)).toBe(before)
  })

  it('result codes become typed errors; garbage, truncated and oversize replies ERR_INVALID_RESPONSE', async () => {
    fake = await startFakeNatPmp({ pcp: true, pcpResultCode: 8 })
    const args = {
      protocol: 'TCP' as const,
      internalPort: 4000,
      externalPort: 0,
      lifetime: 60,
      nonce: newPcpNonce(),
    }
    await expect(pcpMap(fake.address, args)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RESOURCES',
      pcpCode: 8,
    })
    fake.set({ pcpResultCode: 7 })
    await expect(pcpMap(fake.address, args)).rejects.toMatchObject({ code: 'ERR_GATEWAY', pcpCode: 7 })
    fake.set({ pcpResultCode: 0 })
    const gw = fake
    const good = (msg: Buffer) => {
      const req = parsePcpRequest(msg)
      const map = req?.map
      if (map === undefined) throw new Error('not a MAP')
      return encodePcpResponse({
        opcode: 1,
        resultCode: 0,
        lifetime: 60,
        epoch: 5,
        map: { ...map, externalPort: 4000, externalAddress: '11.0.0.100' },
      })
    }
    for (const [name, reply] of [
      ['garbage', () => Buffer.from('garbage!')],
      ['truncated', (m: Buffer) => good(m).subarray(0, 40)],
      ['oversize', (m: Buffer) => Buffer.concat([good(m), Buffer.alloc(1100)])],
      [
        'success without a port',
        (m: Buffer) => {
          const b = good(m)
          b.writeUInt16BE(0, 42)
          return b
        },
      ],
    ] as const) {
      gw.intercept((msg) => [reply(msg)])
      await expect(pcpMap(gw.address, args), name).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' })
    }
    // a reply to another request (another nonce) is ignored, the right one taken
    gw.intercept((msg) => {
      const other = good(msg)
      other[24] = (other[24] ?? 0) ^ 0xff
      return [other, good(msg)]
    })
    expect((await pcpMap(gw.address, args)).externalPort).toBe(4000)
  })

  it('times out with ERR_TIMEOUT after retransmitting, aborts with ERR_ABORTED, closes its socket', async () => {
    fake = await startFakeNatPmp({ pcp: true, silent: true })
    const before = await settledUdpCount()
    await expect(pcpAnnounce(fake.address, { timeout: 600 })).rejects.toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(fake.requests.length).toBeGreaterThanOrEqual(2) // sent at 0 and 250 ms
    const ac = new AbortController()
    const p = pcpAnnounce(fake.address, { signal: ac.signal, timeout: 30_000 })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    // nothing listens at this loopback address: ICMP port unreachable is reported at once
    await expect(pcpAnnounce('127.0.0.1', { timeout: 5_000 })).rejects.toMatchObject({ code: 'ERR_GATEWAY' })
    expect(await udpSockets(before)).toBe(before)
  })
})

describe('PCP over IPv6 (a server on ::1)', () => {
  it('sends our IPv6 address as is and reads an IPv6 external address (a pinhole)', async () => {
    const server = createSocket('udp6')
    const seen: string[] = []
    server.on('message', (msg, rinfo) => {
      const req = parsePcpRequest(msg)
      if (req?.map === undefined) return
      seen.push(req.clientAddress, req.map.suggestedExternalAddress)
      const reply = encodePcpResponse({
        opcode: 1,
        resultCode: 0,
        lifetime: req.lifetime,
        epoch: 9,
        map: { ...req.map, externalPort: req.map.internalPort, externalAddress: '2001:db8::1' },
      })
      server.send(reply, rinfo.port, rinfo.address)
    })
    server.bind(0, '::1')
    await once(server, 'listening')
    try {
      const port = server.address().port
      const args = { protocol: 'TCP' as const, internalPort: 4000, externalPort: 0, nonce: newPcpNonce() }
      const grant = await pcpMap('::1', { ...args, lifetime: 600 }, { port })
      expect(grant).toMatchObject({
        internalAddress: '::1',
        externalAddress: '2001:db8::1',
        externalPort: 4000,
      })
      expect(seen).toEqual(['::1', '::'])
      expect((await pcpMap('::1', { ...args, lifetime: 0 }, { port })).lifetime).toBe(0)
    } finally {
      server.close()
    }
  })
})

describe('NatClient: IPv6 pinholes by PCP (a server on ::1)', () => {
  it('maps our IPv6 address, keeps it, deletes it on close; refuses without PCP or UPnP in methods', async () => {
    const server = createSocket('udp6')
    const table = new Map<number, { address: string; lifetime: number }>()
    server.on('message', (msg, rinfo) => {
      const req = parsePcpRequest(msg)
      if (req?.map === undefined) return
      if (req.lifetime === 0) table.delete(req.map.internalPort)
      else table.set(req.map.internalPort, { address: req.clientAddress, lifetime: req.lifetime })
      const reply = encodePcpResponse({
        opcode: 1,
        resultCode: 0,
        lifetime: req.lifetime,
        epoch: 100,
        map: { ...req.map, externalPort: req.map.internalPort, externalAddress: req.clientAddress },
      })
      server.send(reply, rinfo.port, rinfo.address)
    })
    server.bind(0, '::1')
    await once(server, 'listening')
    const ipv6Gateway = { address: '::1', localAddress: '::1', port: server.address().port }
    const nat = new NatClient({ upnp: false, natpmp: false, interfaces: ['lo'], ipv6Gateway })
    try {
      const m = await nat.map({ internalPort: 4000, family: 6, ttl: 600 })
      expect(m).toMatchObject({
        method: 'pcp',
        family: 6,
        gateway: '::1',
        internalAddress: '::1',
        externalAddress: '::1',
        externalPort: 4000,
        ttl: 600,
      })
      expect(table.get(4000)).toEqual({ address: '::1', lifetime: 600 })
      // the IPv4 and IPv6 mappings of one port are two mappings
      expect(nat.mappings()).toHaveLength(1)
      await nat.unmap({ internalPort: 4000, family: 6 })
      expect(table.size).toBe(0)
      await nat.map({ internalPort: 4001, family: 6, ttl: 600 })
    } finally {
      await nat.close()
      server.close()
    }
    expect(table.size).toBe(0)
    // IPv6 pinholes come from PCP or an IGD v2 (pinhole.test.ts); NAT-PMP has none
    const natpmpOnly = new NatClient({ methods: ['natpmp'], upnp: false, ipv6Gateway })
    await expect(natpmpOnly.map({ internalPort: 1, family: 6 })).rejects.toMatchObject({
      code: 'ERR_NOT_SUPPORTED',
    })
    await natpmpOnly.close()
  })
})

describe('NatClient over PCP (fake gateway on loopback, fake timers)', () => {
  const client = (address: string, extra: NatClientOptions = {}) =>
    new NatClient({ upnp: false, natpmpGateways: [address], interfaces: ['lo'], timeout: 5_000, ...extra })
  // Timers and Date (the fake gateway's epoch clock too) on a fake clock that also follows real time,
  // so waits for real socket I/O go on; the tests jump it forward to the renewals. Sockets stay real.
  const fakeTime = () =>
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  /** Runs `body` with a fake gateway (PCP unless told otherwise) and a client of it, closed after;
   * returns the gateway, for what it holds once the client closed. */
  const withNat = async (
    body: (gw: Fake, nat: NatClient) => Promise<void>,
    gateway: Parameters<typeof startFakeNatPmp>[0] = { pcp: true },
  ) => {
    fake = await startFakeNatPmp(gateway)
    const gw = fake
    const nat = client(gw.address)
    try {
      await body(gw, nat)
    } finally {
      await nat.close()
    }
    return gw
  }

  it('prefers PCP, renews at half the lease with the same nonce and port, deletes on close', async () => {
    fakeTime()
    const gw = await withNat(async (gw, nat) => {
      expect((await nat.discover()).map((g) => g.protocols)).toEqual([['pcp', 'natpmp']])
      const m = await nat.map({ internalPort: 5000, ttl: 120 })
      expect(m).toMatchObject({ method: 'pcp', externalPort: 5000, externalAddress: '11.0.0.100', ttl: 120 })
      const nonce = [...gw.pcpMappings.values()][0]?.nonce
      const renewed = once(nat, 'mapping:renewed')
      await vi.advanceTimersByTimeAsync(60_000) // RENEW_AT_FRACTION of 120 s
      expect((await renewed)[0]).toMatchObject({ method: 'pcp', externalPort: 5000 })
      expect([...gw.pcpMappings.values()][0]?.nonce).toEqual(nonce)
    })
    expect(gw.pcpMappings.size).toBe(0)
  })

  it('a gateway restart (epoch back to 0) re-maps every mapping on it at once', async () => {
    fakeTime()
    await withNat(async (gw, nat) => {
      await nat.map({ internalPort: 5000, ttl: 3600 })
      await nat.map({ internalPort: 5001, ttl: 7200 })
      await vi.advanceTimersByTimeAsync(1_000_000)
      gw.restart()
      expect(gw.pcpMappings.size).toBe(0)
      const restored: number[] = []
      const both = new Promise<void>((resolve) =>
        nat.on('mapping:restored', (m) => {
          restored.push(m.internalPort)
          if (restored.length === 2) resolve()
        }),
      )
      await vi.advanceTimersByTimeAsync(1_800_000) // the first renewal (5000's) sees the new epoch
      await both
      expect(restored.sort()).toEqual([5000, 5001])
      expect(gw.pcpMappings.size).toBe(2)
    })
  })

  it('an epoch that goes backwards by more than a second counts as a restart', async () => {
    fakeTime()
    await withNat(async (gw, nat) => {
      await nat.map({ internalPort: 5000, ttl: 60 })
      gw.set({ pcpEpochShift: -10 })
      const restored = once(nat, 'mapping:restored')
      await vi.advanceTimersByTimeAsync(30_000)
      expect((await restored)[0]).toMatchObject({ externalPort: 5000 })
    })
  })

  it('a mapping the gateway dropped silently is put back at the next renewal', async () => {
    fakeTime()
    await withNat(async (gw, nat) => {
      await nat.map({ internalPort: 5000, ttl: 60 })
      gw.dropMappings()
      const renewed = once(nat, 'mapping:renewed')
      await vi.advanceTimersByTimeAsync(30_000)
      await renewed
      expect([...gw.pcpMappings.values()]).toEqual([expect.objectContaining({ external: 5000 })])
    })
  })

  it('falls back to NAT-PMP on a NAT-PMP-only gateway', async () => {
    await withNat(async (_gw, nat) => {
      expect((await nat.discover()).map((g) => g.protocols)).toEqual([['natpmp']])
      expect(await nat.map({ internalPort: 5000, ttl: 60 })).toMatchObject({ method: 'natpmp' })
    }, {})
  })
})
