import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { NatError } from '../src/errors.js'
import { NatClient } from '../src/nat-client.js'
import { natpmpExternalAddress, natpmpMap, natpmpUnmap, parseNatPmpMapping } from '../src/natpmp-client.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'

type Fake = Awaited<ReturnType<typeof startFakeNatPmp>>
let fake: Fake | undefined
afterEach(() => {
  fake?.close()
  fake = undefined
})

describe('NAT-PMP client (patched nat-pmp, fake gateway on loopback)', () => {
  it('gets the external address, maps and unmaps', async () => {
    fake = await startFakeNatPmp()
    expect(await natpmpExternalAddress(fake.address)).toMatchObject({ address: '11.0.0.100' })
    const grant = await natpmpMap(fake.address, {
      protocol: 'TCP',
      internalPort: 4000,
      externalPort: 4000,
      ttl: 60,
    })
    expect(grant).toMatchObject({ internalPort: 4000, externalPort: 4000, ttl: 60 })
    expect(fake.mappings.size).toBe(1)
    await natpmpUnmap(fake.address, { protocol: 'TCP', internalPort: 4000 })
    expect(fake.mappings.size).toBe(0)
  })

  it('turns result codes into typed errors', async () => {
    fake = await startFakeNatPmp({ resultCode: 2 })
    const args = { protocol: 'UDP', internalPort: 4000, externalPort: 4000, ttl: 60 } as const
    await expect(natpmpMap(fake.address, args)).rejects.toMatchObject({
      code: 'ERR_NOT_AUTHORIZED',
      natpmpCode: 2,
    })
    fake.set({ resultCode: 4 })
    await expect(natpmpMap(fake.address, args)).rejects.toMatchObject({
      code: 'ERR_OUT_OF_RESOURCES',
      natpmpCode: 4,
    })
    fake.set({ resultCode: 3 })
    await expect(natpmpMap(fake.address, args)).rejects.toMatchObject({ code: 'ERR_GATEWAY', natpmpCode: 3 })
  })

  it('retransmits (RFC 6886 3.1) and times out with ERR_TIMEOUT when nobody answers', async () => {
    fake = await startFakeNatPmp({ silent: true })
    await expect(natpmpExternalAddress(fake.address, { timeout: 1_000 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    })
    expect(fake.requests.length).toBeGreaterThanOrEqual(2)
  })

  it('honours an abort signal', async () => {
    fake = await startFakeNatPmp({ silent: true })
    const ac = new AbortController()
    const p = natpmpExternalAddress(fake.address, { signal: ac.signal, timeout: 30_000 })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
  })

  it('survives garbage and short datagrams from the gateway, then takes the valid answer (property)', async () => {
    fake = await startFakeNatPmp()
    const gw = fake
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 4 }), async (junk) => {
        let first = true
        gw.intercept((msg) => {
          if (!first) return undefined
          first = false
          // junk first (including wrong opcodes and lengths), then nothing: the retry gets a real answer
          return junk
            .map((b) => Buffer.from(b))
            .filter((b) => !(b.length >= 2 && b[1] === 128 + (msg[1] ?? 0)))
        })
        const ext = await natpmpExternalAddress(gw.address, { timeout: 5_000 })
        expect(ext.address).toBe('11.0.0.100')
      }),
      { numRuns: 8 },
    )
  })

  it('validates mapping replies (property: never throws anything but NatError)', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        try {
          parseNatPmpMapping(raw)
        } catch (err) {
          expect(err).toBeInstanceOf(NatError)
        }
      }),
    )
  })
})

describe('NatClient over NAT-PMP (fake gateway on loopback)', () => {
  const client = (address: string) =>
    new NatClient({ upnp: false, natpmpGateways: [address], interfaces: ['lo'], timeout: 5_000 })

  it('maps, renews before expiry, notices a restart (epoch reset) and puts the mapping back, closes clean', async () => {
    fake = await startFakeNatPmp()
    const gw = fake
    const nat = client(gw.address)
    try {
      const m = await nat.map({ internalPort: 5000, ttl: 2 })
      expect(m).toMatchObject({ method: 'natpmp', externalPort: 5000, externalAddress: '11.0.0.100', ttl: 2 })
      const renewed = await new Promise((resolve) => nat.once('mapping:renewed', resolve))
      expect(renewed).toMatchObject({ externalPort: 5000 })
      gw.restart()
      expect(gw.mappings.size).toBe(0)
      const restored = await new Promise((resolve) => nat.once('mapping:restored', resolve))
      expect(restored).toMatchObject({ externalPort: 5000 })
      expect(gw.mappings.size).toBe(1)
    } finally {
      await nat.close()
    }
    expect(gw.mappings.size).toBe(0)
    expect(nat.mappings()).toEqual([])
    await expect(nat.map({ internalPort: 1 })).rejects.toMatchObject({ code: 'ERR_CLOSED' })
  })

  it('warns (typed event, not an error) when the external address is private: double NAT', async () => {
    fake = await startFakeNatPmp({ externalIp: [100, 64, 1, 2] })
    const nat = client(fake.address)
    const warnings: unknown[] = []
    nat.on('warning', (w) => warnings.push(w))
    const ext = await nat.externalIp()
    await nat.close()
    expect(ext).toMatchObject({ address: '100.64.1.2', private: true, method: 'natpmp' })
    expect(warnings).toEqual([expect.objectContaining({ code: 'DOUBLE_NAT', externalAddress: '100.64.1.2' })])
  })

  it('says it cannot list over NAT-PMP', async () => {
    fake = await startFakeNatPmp()
    const nat = client(fake.address)
    await expect(nat.list()).rejects.toMatchObject({ code: 'ERR_NOT_SUPPORTED' })
    await nat.close()
  })

  it('fails with ERR_NO_GATEWAY when nothing answers', async () => {
    fake = await startFakeNatPmp({ silent: true })
    const nat = new NatClient({
      upnp: false,
      natpmpGateways: [fake.address],
      interfaces: ['lo'],
      timeout: 600,
    })
    await expect(nat.map({ internalPort: 5000 })).rejects.toMatchObject({ code: 'ERR_NO_GATEWAY' })
    await nat.close()
  })
})
