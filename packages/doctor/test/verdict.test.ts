import { afterEach, describe, expect, it, vi } from 'vitest'
import { bounded } from '../src/bounded.js'
import { externalFindings } from '../src/external.js'
import { formatReport } from '../src/format.js'
import { parseServer } from '../src/nat-check.js'
import type { DoctorReport } from '../src/report.js'
import { verdictOf } from '../src/verdict.js'

const yes = { answered: true, ms: 3 }
const no = { answered: false, ms: 1000, error: 'ERR_TIMEOUT' }
const base: Pick<DoctorReport, 'gateway' | 'external' | 'mapping' | 'nat'> = {
  gateway: { address: '10.1.0.1', pcp: yes, natpmp: yes, upnp: no },
  external: {
    addresses: [{ address: '11.0.0.100', source: 'natpmp' }],
    differ: false,
    doubleNat: false,
    cgnat: false,
  },
  mapping: {
    status: 'ok',
    method: 'pcp',
    protocol: 'TCP',
    internalPort: 5000,
    externalAddress: '11.0.0.100',
    externalPort: 5000,
    lifetime: 120,
    removed: true,
    hairpin: 'yes',
  },
  nat: { status: 'skipped' },
}

afterEach(() => {
  vi.useRealTimers()
})

describe('verdict', () => {
  it('direct when the router maps a port to a public address', () => {
    expect(verdictOf(base)).toMatchObject({
      reachability: 'direct',
      reasons: [expect.stringMatching(/by PCP/)],
    })
  })

  it('direct when the server sees one of our own addresses (no NAT)', () => {
    const v = verdictOf({
      ...base,
      mapping: { ...base.mapping, status: 'skipped' },
      nat: { status: 'ok', mapping: 'none', observed: { address: '11.0.0.5', port: 1 } },
    })
    expect(v.reachability).toBe('direct')
  })

  it('hole punching with a cone NAT and no mapping protocol', () => {
    const v = verdictOf({
      gateway: { address: '10.1.0.1', pcp: no, natpmp: no, upnp: no },
      external: { addresses: [], differ: false, doubleNat: false, cgnat: false },
      mapping: { status: 'skipped', protocol: 'TCP', removed: false, hairpin: 'untested' },
      nat: { status: 'ok', mapping: 'preserving', filtering: 'rst' },
    })
    expect(v.reachability).toBe('hole-punching')
    expect(v.reasons.join(' ')).toMatch(/none of PCP, NAT-PMP or UPnP/)
  })

  it('hole punching by prediction behind a sequential NAT', () => {
    const v = verdictOf({
      ...base,
      mapping: { ...base.mapping, status: 'failed', error: 'ERR_NOT_AUTHORIZED' },
      nat: { status: 'ok', mapping: 'sequential', delta: 1 },
    })
    expect(v).toMatchObject({ reachability: 'hole-punching', summary: expect.stringMatching(/prediction/) })
  })

  it('relay only behind a symmetric NAT without mappings', () => {
    const v = verdictOf({
      ...base,
      mapping: { ...base.mapping, status: 'skipped' },
      gateway: { address: null, pcp: no, natpmp: no, upnp: no },
      nat: { status: 'ok', mapping: 'random' },
    })
    expect(v).toMatchObject({
      reachability: 'relay',
      reasons: [expect.stringMatching(/No default gateway/), expect.stringMatching(/random/)],
    })
  })

  it('a mapping behind double NAT does not count as direct', () => {
    const v = verdictOf({
      ...base,
      external: { ...base.external, doubleNat: true },
      nat: { status: 'ok', mapping: 'preserving' },
    })
    expect(v.reachability).toBe('hole-punching')
    expect(v.reasons[0]).toMatch(/behind another NAT/)
  })

  it('an IPv6 pinhole the router opened is a reason of its own', () => {
    const v = verdictOf({
      ...base,
      pinhole6: { status: 'ok', address: 'fd00:1::2', port: 4000, removed: true },
    })
    expect(v.reasons[0]).toMatch(/^Over IPv6 the router opened \[fd00:1::2\]:4000/)
  })

  it('unknown without a server and without a working mapping', () => {
    const v = verdictOf({ ...base, mapping: { ...base.mapping, status: 'timeout', error: 'ERR_TIMEOUT' } })
    expect(v).toMatchObject({
      reachability: 'unknown',
      reasons: expect.arrayContaining([expect.stringMatching(/--server/)]),
    })
  })
})

describe('external addresses', () => {
  it('double NAT: the router has none, or a private one, or not what the server saw; CGNAT by 100.64/10', () => {
    expect(externalFindings({ natpmp: '11.0.0.100', server: '11.0.0.100' })).toMatchObject({
      differ: false,
      doubleNat: false,
      cgnat: false,
    })
    expect(externalFindings({ natpmp: null, server: '11.0.0.100' })).toMatchObject({ doubleNat: true })
    expect(externalFindings({ upnp: '10.1.0.2', server: '11.0.0.100' })).toMatchObject({
      differ: true,
      doubleNat: true,
      addresses: [
        { address: '10.1.0.2', source: 'upnp', privateRange: 'RFC 1918' },
        { address: '11.0.0.100', source: 'server' },
      ],
    })
    expect(externalFindings({ pcp: '100.64.3.4' })).toMatchObject({ doubleNat: true, cgnat: true })
    expect(externalFindings({ pcp: '11.0.0.7', server: '11.0.0.100' })).toMatchObject({
      differ: true,
      doubleNat: true,
    })
  })
})

describe('arguments and bounds', () => {
  it('parses --server host[:port] and [v6][:port]', () => {
    expect(parseServer('10.0.0.1:9000')).toEqual({ host: '10.0.0.1', port: 9000 })
    expect(parseServer('rendezvous.example')).toEqual({ host: 'rendezvous.example', port: 8000 })
    expect(parseServer('[::1]:7')).toEqual({ host: '::1', port: 7 })
    for (const bad of ['', 'a:0', 'a:70000', 'a:b', '::1:80', 'a b'])
      expect(() => parseServer(bad), bad).toThrow(/--server/)
  })

  it('a check that ignores its signal still ends at its bound, reported as timeout', async () => {
    vi.useFakeTimers()
    let sawAbort = false
    const pending = bounded('slow', 1_000, (signal) => {
      signal.addEventListener('abort', () => {
        sawAbort = true
      })
      return new Promise<never>(() => {})
    })
    await vi.advanceTimersByTimeAsync(1_000)
    const r = await pending
    expect(sawAbort).toBe(true)
    expect(r).toMatchObject({ result: { name: 'slow', status: 'timeout', error: { code: 'ERR_TIMEOUT' } } })
    expect(r.value).toBeUndefined()
  })

  it('failures keep their code; successes their value', async () => {
    const ok = await bounded('ok', 1_000, async () => 42)
    expect(ok).toMatchObject({ value: 42, result: { status: 'ok' } })
    const failed = await bounded('bad', 1_000, async () => {
      throw Object.assign(new Error('refused'), { code: 'ERR_GATEWAY' })
    })
    expect(failed.result).toMatchObject({
      status: 'failed',
      error: { code: 'ERR_GATEWAY', message: 'refused' },
    })
  })

  it('formats a report for people, verdict first', () => {
    const report: DoctorReport = {
      schema: 'pyp2p-doctor/1',
      startedAt: new Date(0).toISOString(),
      durationMs: 1234,
      network: {
        interfaces: [{ name: 'eth0', address: '10.1.0.2', family: 4, netmask: '255.255.255.0' }],
        defaultRoutes: [{ family: 4, gateway: '10.1.0.1', iface: 'eth0', localAddress: '10.1.0.2' }],
      },
      ...base,
      pinhole6: { status: 'skipped', removed: false },
      verdict: verdictOf(base),
      checks: [],
      timedOut: ['upnp'],
    }
    const text = formatReport(report)
    expect(text.split('\n')[0]).toMatch(/^Verdict: Others can connect to you directly/)
    expect(text).toMatch(/PCP +answered in 3 ms/)
    expect(text).toMatch(/Timed out: upnp\./)
  })
})
