// IGD v2 IPv6 pinholes (WANIPv6FirewallControl:1): the SOAP exchange read from replies captured from
// miniupnpd 2.3.1 in the lab (test/data/pinhole-*.xml) and from the service spec's shapes; SSDP over
// IPv6; and NatClient.map({ family: 6 }) falling back from a PCP-less IPv6 gateway to AddPinhole,
// renewing with UpdatePinhole, re-opening a lost pinhole and deleting it on close (a fake IGD on ::1).
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NatError } from '../src/errors.js'
import { NatClient } from '../src/nat-client.js'
import {
  parseAddPinhole,
  parseFirewallStatus,
  parseOutboundPinholeTimeout,
  pinholeControlUrl,
  pinholeEnvelope,
} from '../src/pinhole-soap.js'
import { parseActionResponse, parseUpnpFault } from '../src/soap.js'
import { searchPinholeService } from '../src/ssdp6.js'
import { parseXml, toShaped } from '../src/xml.js'
import { startFakePinholeIgd } from './helpers/fake-pinhole-igd.js'

const data = (name: string) =>
  toShaped(parseXml(readFileSync(new URL(`./data/${name}`, import.meta.url), 'utf8')))
const SERVICE = 'urn:schemas-upnp-org:service:WANIPv6FirewallControl:1'
const response = (action: string, inner: string) =>
  toShaped(
    parseXml(
      `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:${action}Response xmlns:u="${SERVICE}">${inner}</u:${action}Response></s:Body></s:Envelope>`,
    ),
  )

describe('pinhole SOAP (replies captured from miniupnpd 2.3.1)', () => {
  it('reads the control URL from the IGD v2 description; IGD without the service: ERR_NOT_SUPPORTED', () => {
    const at = new URL('http://[fd00:1::1]:5000/rootDesc.xml')
    expect(pinholeControlUrl(data('rootDesc-igd2-ipv6.xml'), at).href).toBe(
      'http://[fd00:1::1]:5000/ctl/IP6FCtl',
    )
    expect(() => pinholeControlUrl(data('rootDesc-igd1.xml'), at)).toThrow(
      expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }),
    )
  })

  it('AddPinhole gives the UniqueID; Update/Delete answer empty; firewall status; faults keep their code', () => {
    expect(parseAddPinhole(data('pinhole-add.xml'))).toBe(1)
    expect(parseActionResponse(data('pinhole-update.xml'), 'UpdatePinhole')).toEqual({})
    expect(parseActionResponse(data('pinhole-delete.xml'), 'DeletePinhole')).toEqual({})
    expect(parseFirewallStatus(data('pinhole-firewall-status.xml'))).toEqual({
      enabled: true,
      inboundAllowed: true,
    })
    expect(parseUpnpFault(data('pinhole-fault-606.xml'))).toEqual({
      code: 606,
      description: 'Action not authorized',
    })
    expect(parseUpnpFault(data('pinhole-fault-402.xml'))?.code).toBe(402)
    // miniupnpd 2.3.1 answers GetOutboundPinholeTimeout with 501; the spec's reply shape is read below
    expect(parseUpnpFault(data('pinhole-fault-501.xml'))?.code).toBe(501)
    expect(
      parseOutboundPinholeTimeout(
        response('GetOutboundPinholeTimeout', '<OutboundPinholeTimeout>120</OutboundPinholeTimeout>'),
      ),
    ).toBe(120)
  })

  it('bad values are ERR_INVALID_RESPONSE: a UniqueID out of ui2, a missing element, a bad boolean', () => {
    for (const id of ['65536', '-1', 'abc', '', '1e3']) {
      expect(() => parseAddPinhole(response('AddPinhole', `<UniqueID>${id}</UniqueID>`))).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_RESPONSE' }),
      )
    }
    expect(() => parseAddPinhole(data('pinhole-update.xml'))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_RESPONSE' }),
    )
    expect(() =>
      parseFirewallStatus(response('GetFirewallStatus', '<FirewallEnabled>maybe</FirewallEnabled>')),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_RESPONSE' }))
  })

  it('the request envelope escapes values and names the service; random replies never crash the readers', () => {
    const env = pinholeEnvelope('AddPinhole', [
      ['InternalClient', '<&>'],
      ['InternalPort', 80],
    ])
    expect(env).toContain(
      `<u:AddPinhole xmlns:u="${SERVICE}"><InternalClient>&lt;&amp;&gt;</InternalClient><InternalPort>80</InternalPort>`,
    )
    expect(() => pinholeEnvelope('Add<x>', [])).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        for (const read of [parseAddPinhole, parseOutboundPinholeTimeout, parseFirewallStatus]) {
          try {
            read(response('AddPinhole', text.replace(/[<&]/g, '')))
            read(toShaped(parseXml(text)))
          } catch (err) {
            if (!(err instanceof NatError)) throw err
          }
        }
      }),
    )
  })
})

describe('SSDP over IPv6 (a responder on ::1)', () => {
  it('finds the firewall service and reads its IPv6 LOCATION', async () => {
    const igd = await startFakePinholeIgd()
    try {
      const found = await searchPinholeService({ localAddress: '::1', target: igd.ssdpTarget })
      expect(found.from).toBe('::1')
      expect(found.response.location.href).toBe(igd.location)
    } finally {
      igd.close()
    }
  })
})

/** A UDP port on ::1 where nothing listens: PCP there is refused at once (a gateway without PCP). */
async function closedPort(): Promise<number> {
  const s = createSocket('udp6')
  await new Promise<void>((resolve) => s.bind(0, '::1', resolve))
  const { port } = s.address()
  await new Promise<void>((resolve) => s.close(() => resolve()))
  return port
}

describe('NatClient: IPv6 pinholes by IGD v2 when PCP does not answer (fake IGD on ::1)', () => {
  afterEach(() => vi.useRealTimers())

  it('opens, renews at half-life with UpdatePinhole, re-opens a lost one, deletes on close', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true, toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const igd = await startFakePinholeIgd()
    const nat = new NatClient({
      upnp: false,
      natpmp: false,
      interfaces: ['lo'],
      ipv6Gateway: {
        address: '::1',
        localAddress: '::1',
        port: await closedPort(),
        upnpLocation: igd.location,
      },
    })
    try {
      const m = await nat.map({ internalPort: 4444, family: 6, ttl: 600 })
      expect(m).toMatchObject({
        method: 'upnp',
        family: 6,
        internalAddress: '::1',
        externalAddress: '::1',
        externalPort: 4444,
        ttl: 600,
        pinholeId: 1,
        gateway: '::1',
      })
      expect([...igd.pinholes.values()]).toEqual([
        { internalClient: '::1', internalPort: 4444, protocol: 6, lease: 600 },
      ])
      const renewed = once(nat, 'mapping:renewed')
      await vi.advanceTimersByTimeAsync(300_000)
      expect((await renewed)[0]).toMatchObject({ pinholeId: 1, ttl: 600 })
      expect(igd.calls).toContain('UpdatePinhole')
      igd.restart()
      const restored = once(nat, 'mapping:restored')
      await vi.advanceTimersByTimeAsync(300_000)
      expect((await restored)[0]).toMatchObject({ pinholeId: 2, externalPort: 4444 })
      expect([...igd.pinholes.keys()]).toEqual([2])
    } finally {
      await nat.close()
    }
    expect(igd.pinholes.size).toBe(0)
    expect(igd.calls.at(-1)).toBe('DeletePinhole')
    igd.close()
  })

  it('a lease above 86400 s is clamped; a 606 and a garbage reply are typed errors; PCP only: the PCP error', async () => {
    const igd = await startFakePinholeIgd()
    const gw = { address: '::1', localAddress: '::1', port: await closedPort(), upnpLocation: igd.location }
    const nat = new NatClient({
      upnp: false,
      natpmp: false,
      interfaces: ['lo'],
      autoRenew: false,
      ipv6Gateway: gw,
    })
    try {
      expect(await nat.map({ internalPort: 4445, family: 6, ttl: 200_000 })).toMatchObject({ ttl: 86_400 })
    } finally {
      await nat.close()
    }
    // secure mode: the router opens only the address that asks
    const other = new NatClient({ upnp: false, natpmp: false, ipv6Gateway: { ...gw, localAddress: '::2' } })
    await expect(other.map({ internalPort: 4446, family: 6 })).rejects.toMatchObject({ upnpCode: 606 })
    await other.close()
    igd.close()
    const bad = await startFakePinholeIgd({
      garbage: '<s:Envelope><s:Body><u:AddPinholeResponse><UniqueID>x',
    })
    const nat2 = new NatClient({
      upnp: false,
      natpmp: false,
      ipv6Gateway: { ...gw, upnpLocation: bad.location },
    })
    await expect(nat2.map({ internalPort: 4447, family: 6 })).rejects.toBeInstanceOf(NatError)
    await nat2.close()
    bad.close()
    const pcpOnly = new NatClient({ methods: ['pcp'], ipv6Gateway: gw })
    await expect(pcpOnly.map({ internalPort: 4448, family: 6 })).rejects.toMatchObject({
      code: 'ERR_GATEWAY',
    })
    await pcpOnly.close()
  })
})
