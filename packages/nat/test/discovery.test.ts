import { describe, expect, it } from 'vitest'
import { discover, discoverGateways } from '../src/discovery.js'
import { epochShowsRestart } from '../src/epoch.js'
import { NatClient } from '../src/nat-client.js'
import { startFakeIgd } from './helpers/fake-igd.js'
import { startFakeNatPmp } from './helpers/fake-natpmp.js'

/** Longer than any test may run: a discovery that waited for it would fail the test by its timeout. */
const NEVER = 10 * 60_000

describe('discovery order: first answer wins', () => {
  it('returns on the PCP/NAT-PMP answer without waiting for an SSDP answer held back', async () => {
    const pmp = await startFakeNatPmp({ pcp: true })
    const igd = await startFakeIgd({ version: 2, holdSsdp: true })
    try {
      const found = await discover({
        interfaces: ['lo'],
        natpmpGateways: [pmp.address],
        ssdpTarget: igd.ssdpTarget,
        timeout: NEVER,
      })
      expect(found.gateways.map((g) => g.info)).toEqual([
        expect.objectContaining({
          address: pmp.address,
          protocols: ['pcp', 'natpmp'],
          pcp: expect.objectContaining({ epoch: expect.any(Number) }),
          natpmp: expect.objectContaining({ externalAddress: '11.0.0.100' }),
        }),
      ])
      // the UPnP device was asked and had not answered yet: discovery did not wait for it
      expect(igd.searches()).toBeGreaterThan(0)
      expect(igd.heldAnswers()).toBe(igd.searches())
      expect(found.upnpCutShort).toBe(true)
    } finally {
      pmp.close()
      await igd.close()
    }
  })

  it('NAT-PMP-only: PCP is refused by "unsupported version" and NAT-PMP wins', async () => {
    const pmp = await startFakeNatPmp()
    try {
      const gateways = await discoverGateways({
        upnp: false,
        interfaces: ['lo'],
        natpmpGateways: [pmp.address],
        timeout: NEVER,
      })
      expect(gateways.map((g) => g.protocols)).toEqual([['natpmp']])
    } finally {
      pmp.close()
    }
  })

  it('`grace: Infinity` waits for the slower protocols (here: the SSDP answer)', async () => {
    const pmp = await startFakeNatPmp({ pcp: true })
    const igd = await startFakeIgd({ version: 2 })
    try {
      const gateways = await discoverGateways({
        interfaces: ['lo'],
        natpmpGateways: [pmp.address],
        ssdpTarget: igd.ssdpTarget,
        timeout: 1_500,
        grace: Number.POSITIVE_INFINITY,
      })
      expect(gateways.flatMap((g) => g.protocols).sort()).toEqual(['natpmp', 'pcp', 'upnp-igd2'])
    } finally {
      pmp.close()
      await igd.close()
    }
  })

  it('a client that needs UPnP (list) searches for it again when the fast discovery returned first', async () => {
    const pmp = await startFakeNatPmp({ pcp: true })
    const igd = await startFakeIgd({ version: 2, holdSsdp: true })
    const nat = new NatClient({
      interfaces: ['lo'],
      natpmpGateways: [pmp.address],
      ssdpTarget: igd.ssdpTarget,
      timeout: 5_000,
    })
    try {
      expect((await nat.discover()).map((g) => g.protocols)).toEqual([['pcp', 'natpmp']])
      igd.releaseSsdp()
      expect(await nat.list()).toEqual([])
      expect((await nat.map({ internalPort: 5000, ttl: 60 })).method).toBe('pcp')
    } finally {
      await nat.close()
      pmp.close()
      await igd.close()
    }
  })
})

describe('epoch rules', () => {
  const at = (s: number) => s * 1000
  it('NAT-PMP (RFC 6886 3.6): less than 7/8 of the elapsed time, minus 2 s, means a restart', () => {
    const prev = { epoch: 1000, at: at(0) }
    expect(epochShowsRestart('natpmp', prev, 1100, at(100))).toBe(false)
    expect(epochShowsRestart('natpmp', prev, 1000 + 87.5 - 2, at(100))).toBe(false)
    expect(epochShowsRestart('natpmp', prev, 1000 + 85, at(100))).toBe(true)
    expect(epochShowsRestart('natpmp', prev, 5, at(100))).toBe(true)
  })

  it('PCP (RFC 6887 8.5): back by more than 1 s, or the clocks 2 s + 1/16 apart, means a restart', () => {
    const prev = { epoch: 1000, at: at(0) }
    expect(epochShowsRestart('pcp', prev, 999, at(0))).toBe(false)
    expect(epochShowsRestart('pcp', prev, 998, at(0))).toBe(true)
    expect(epochShowsRestart('pcp', prev, 1100, at(100))).toBe(false)
    // our 100 s less a sixteenth is 93.75: the server must have counted more than 91.75 s
    expect(epochShowsRestart('pcp', prev, 1000 + 92, at(100))).toBe(false)
    expect(epochShowsRestart('pcp', prev, 1000 + 91, at(100))).toBe(true)
    expect(epochShowsRestart('pcp', prev, 1000 + 110, at(100))).toBe(true) // server ran faster than we did
    expect(epochShowsRestart('pcp', prev, 3, at(100))).toBe(true)
  })
})
