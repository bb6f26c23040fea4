import { afterEach, describe, expect, it } from 'vitest'
import { discoverGateways } from '../src/discovery.js'
import { NatError } from '../src/errors.js'
import { createHttpTransport } from '../src/http-transport.js'
import { NatClient, type NatClientOptions } from '../src/nat-client.js'
import { type FakeIgdOptions, startFakeIgd } from './helpers/fake-igd.js'

type Fake = Awaited<ReturnType<typeof startFakeIgd>>
let fake: Fake | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function setup(opts: FakeIgdOptions, extra: NatClientOptions = {}) {
  fake = await startFakeIgd(opts)
  const options: NatClientOptions = {
    interfaces: ['lo'],
    natpmp: false,
    ssdpTarget: fake.ssdpTarget,
    timeout: 5_000,
    ...extra,
  }
  return { fake, nat: new NatClient(options), options }
}

describe('UPnP IGD through the patched nat-upnp (fake IGD on loopback)', () => {
  it('discovers IGD v2 and v1 gateways and says which they speak', async () => {
    const { options, nat } = await setup({ version: 2 })
    const v2 = await discoverGateways(options)
    expect(v2).toEqual([
      expect.objectContaining({
        address: '127.0.0.1',
        localAddress: '127.0.0.1',
        protocols: ['upnp-igd2'],
        upnp: expect.objectContaining({
          version: 2,
          serviceType: 'urn:schemas-upnp-org:service:WANIPConnection:2',
        }),
      }),
    ])
    await nat.close()
    await fake?.close()
    const second = await setup({ version: 1 })
    expect((await discoverGateways(second.options))[0]?.protocols).toEqual(['upnp-igd1'])
    await second.nat.close()
  })

  it('maps with a finite lease and our description, lists it as ours, unmaps', async () => {
    const { fake, nat } = await setup({ version: 1 })
    const m = await nat.map({ internalPort: 5000, ttl: 600, description: 'a & <b>' })
    expect(m).toMatchObject({
      method: 'upnp',
      externalPort: 5000,
      ttl: 600,
      permanent: false,
      externalAddress: '11.0.0.100',
    })
    expect(fake.table.get('TCP:5000')).toMatchObject({
      internalClient: '127.0.0.1',
      description: 'a & <b>',
      lease: 600,
    })
    expect(await nat.list()).toEqual([
      expect.objectContaining({ externalPort: 5000, own: true, description: 'a & <b>' }),
    ])
    await nat.unmap(m)
    expect(fake.table.size).toBe(0)
    await expect(nat.unmap(m)).rejects.toMatchObject({ code: 'ERR_NOT_MAPPED' })
    await nat.close()
  })

  it('725 (only permanent leases): falls back to lease 0 and deletes it on close', async () => {
    const { fake, nat } = await setup({ version: 1, onlyPermanent: true })
    const m = await nat.map({ internalPort: 5000, ttl: 600 })
    expect(m).toMatchObject({ permanent: true, ttl: 0, expiresAt: null })
    expect(fake.table.get('TCP:5000')?.lease).toBe(0)
    await nat.close()
    expect(fake.table.size).toBe(0)
  })

  it('718 (conflict): takes another port, or fails with ERR_PORT_IN_USE when the port is required', async () => {
    const { fake, nat } = await setup({ version: 1, taken: new Set([5000]) })
    const m = await nat.map({ internalPort: 5000, ttl: 600 })
    expect(m.externalPort).not.toBe(5000)
    expect(fake.calls.filter((c) => c === 'AddPortMapping').length).toBeGreaterThanOrEqual(2)
    const err = await nat
      .map({ internalPort: 5001, externalPort: 5000, exactExternalPort: true, ttl: 600 })
      .catch((e) => e)
    expect(err).toBeInstanceOf(NatError)
    expect(err).toMatchObject({ code: 'ERR_PORT_IN_USE', upnpCode: 718 })
    expect(err.message).toMatch(/externalPort/)
    await nat.close()
  })

  it('IGD v2: AddAnyPortMapping lets the router pick a free port', async () => {
    const { fake, nat } = await setup({ version: 2, taken: new Set([5000]) })
    const m = await nat.map({ internalPort: 5000, ttl: 600 })
    expect(m.externalPort).toBe(5001)
    expect(fake.calls).toContain('AddAnyPortMapping')
    await nat.close()
  })

  it('IGD v2 without AddAnyPortMapping (401): falls back to AddPortMapping', async () => {
    const { fake, nat } = await setup({ version: 2, noAnyPortMapping: true })
    const m = await nat.map({ internalPort: 5000, ttl: 600 })
    expect(m.externalPort).toBe(5000)
    expect(fake.calls.slice(-3)).toEqual(['AddAnyPortMapping', 'AddPortMapping', 'GetExternalIPAddress'])
    await nat.close()
  })

  it('724 (same port values required): asks for the internal port', async () => {
    const { fake, nat } = await setup({ version: 1, samePortRequired: true })
    const m = await nat.map({ internalPort: 5000, externalPort: 6000, ttl: 600 })
    expect(m.externalPort).toBe(5000)
    expect(fake.table.get('TCP:5000')).toBeDefined()
    await nat.close()
  })

  it('606: ERR_NOT_AUTHORIZED with advice', async () => {
    const { nat } = await setup({ version: 2, refuse: true })
    await expect(nat.map({ internalPort: 5000 })).rejects.toMatchObject({
      code: 'ERR_NOT_AUTHORIZED',
      upnpCode: 606,
    })
    await nat.close()
  })

  it('renews, and puts a mapping back after the router lost it (restart)', async () => {
    const { fake, nat } = await setup({ version: 2 })
    const m = await nat.map({ internalPort: 5000, ttl: 2 })
    await new Promise((resolve) => nat.once('mapping:renewed', resolve))
    fake.table.clear()
    const restored = await new Promise((resolve) => nat.once('mapping:restored', resolve))
    expect(restored).toMatchObject({ externalPort: m.externalPort })
    expect(fake.table.size).toBe(1)
    await nat.close()
    expect(fake.table.size).toBe(0)
  })

  it('warns about double NAT when the router reports a private external address', async () => {
    const { nat } = await setup({ version: 2, externalIp: '10.0.0.5' })
    const warnings: unknown[] = []
    nat.on('warning', (w) => warnings.push(w))
    await expect(nat.externalIp()).resolves.toMatchObject({ private: true, method: 'upnp' })
    expect(warnings).toEqual([expect.objectContaining({ code: 'DOUBLE_NAT', range: 'RFC 1918' })])
    await nat.close()
  })

  it('the HTTP transport fetches only from the gateway that answered SSDP', async () => {
    const t = createHttpTransport('127.0.0.1')
    await expect(t.getXml('http://127.0.0.2:9/desc.xml', {})).rejects.toMatchObject({
      code: 'ERR_INVALID_RESPONSE',
    })
    await expect(t.getXml('file:///etc/passwd', {})).rejects.toMatchObject({ code: 'ERR_INVALID_RESPONSE' })
  })

  it('discovery with nobody answering ends at its timeout with no gateway', async () => {
    const { nat } = await setup({ version: 2 })
    const silent = new NatClient({
      interfaces: ['lo'],
      natpmp: false,
      ssdpTarget: { address: '127.0.0.1', port: 9 },
      timeout: 300,
    })
    await expect(silent.map({ internalPort: 5000 })).rejects.toMatchObject({ code: 'ERR_NO_GATEWAY' })
    await expect(
      discoverGateways({
        interfaces: ['lo'],
        natpmp: false,
        ssdpTarget: { address: '127.0.0.1', port: 9 },
        timeout: 300,
      }),
    ).resolves.toEqual([])
    const ac = new AbortController()
    const p = discoverGateways({
      interfaces: ['lo'],
      natpmp: false,
      ssdpTarget: { address: '127.0.0.1', port: 9 },
      signal: ac.signal,
    })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await silent.close()
    await nat.close()
  })
})
