import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NatError } from '../src/errors.js'
import { parseActionResponse, parseMappingEntry, parseUpnpFault } from '../src/soap.js'
import { parseXml, toShaped, type XmlElement } from '../src/xml.js'

const data = (name: string) => readFileSync(new URL(`./data/${name}`, import.meta.url), 'utf8')

function serialize(e: XmlElement): string {
  const esc = (s: string) =>
    s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
  const attrs = Object.entries(e.attributes)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('')
  return `<${e.name}${attrs}>${esc(e.text)}${e.children.map(serialize).join('')}</${e.name}>`
}

const nameArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,8}(:[A-Za-z_][A-Za-z0-9_]{0,6})?$/)
const textArb = fc.string({ maxLength: 20 })
const elementOf = (depth: number): fc.Arbitrary<XmlElement> =>
  fc.record({
    name: nameArb,
    attributes: fc
      .uniqueArray(fc.tuple(nameArb, textArb), { maxLength: 3, selector: ([k]) => k })
      .map((pairs) =>
        Object.assign(Object.create(null) as Record<string, string>, Object.fromEntries(pairs)),
      ),
    children: depth === 0 ? fc.constant([]) : fc.array(elementOf(depth - 1), { maxLength: 3 }),
    // text before the children only, so serialize() keeps it in one piece
    text: textArb,
  })
const elementArb = elementOf(3)

describe('XML reader', () => {
  it('reads the IGD v2 description miniupnpd 2.3.1 serves (captured in the lab)', () => {
    const doc = toShaped(parseXml(data('rootDesc-igd2.xml'))) as Record<string, unknown>
    const text = JSON.stringify(doc)
    expect(text).toContain('urn:schemas-upnp-org:service:WANIPConnection:2')
    expect(text).toContain('/ctl/IPConn')
  })

  it('reads a SOAP fault and finds the UPnP error', () => {
    const doc = toShaped(parseXml(data('fault-714.xml')))
    expect(parseUpnpFault(doc)).toEqual({ code: 714, description: 'NoSuchEntryInArray' })
  })

  it('decodes entities and CDATA, and refuses DTDs, unknown entities and broken nesting', () => {
    const e = parseXml('<?xml version="1.0"?><a x="&lt;1&gt;">a &amp; b &#65;&#x42;<![CDATA[<raw>]]></a>')
    expect(e.attributes.x).toBe('<1>')
    expect(e.text).toBe('a & b AB<raw>')
    for (const bad of [
      '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
      '<a>&x;</a>',
      '<a><b></a></b>',
      '<a>',
      '<a></a><b></b>',
      'text',
      '<a b=c></a>',
    ]) {
      expect(() => parseXml(bad), bad).toThrow(NatError)
    }
  })

  it('bounds nesting depth', () => {
    const deep = `${'<a>'.repeat(40)}${'</a>'.repeat(40)}`
    expect(() => parseXml(deep)).toThrow(NatError)
    expect(() => parseXml(deep, 64)).not.toThrow()
  })

  it('keeps hostile keys as plain data: no prototype pollution', () => {
    const doc = toShaped(
      parseXml('<r><__proto__><polluted>yes</polluted></__proto__><constructor>1</constructor></r>'),
    )
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.getPrototypeOf(doc)).toBeNull()
    expect(JSON.stringify(doc)).toContain('polluted')
  })

  it('round-trips generated documents (property)', () => {
    fc.assert(
      fc.property(elementArb, (el) => {
        const back = parseXml(serialize(el))
        expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(el)))
      }),
    )
  })

  it('throws only NatError on arbitrary input (property)', () => {
    const xmlish = fc.array(
      fc.constantFrom('<', '>', '/', 'a', 'b', '=', '"', "'", '&', ';', '!', '?', '[', ' ', 'x:'),
      {
        maxLength: 40,
      },
    )
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          xmlish.map((a) => a.join('')),
        ),
        (s) => {
          try {
            toShaped(parseXml(s))
          } catch (err) {
            expect(err).toBeInstanceOf(NatError)
          }
        },
      ),
    )
  })
})

describe('SOAP readers', () => {
  const envelope = (inner: string) =>
    toShaped(
      parseXml(
        `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${inner}</s:Body></s:Envelope>`,
      ),
    )

  it('reads action output arguments', () => {
    const doc = envelope(
      '<u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:2"><NewExternalIPAddress>11.0.0.100</NewExternalIPAddress></u:GetExternalIPAddressResponse>',
    )
    expect(parseActionResponse(doc, 'GetExternalIPAddress')).toEqual({ NewExternalIPAddress: '11.0.0.100' })
    expect(() => parseActionResponse(doc, 'AddPortMapping')).toThrow(NatError)
    expect(
      parseActionResponse(envelope('<u:AddPortMappingResponse xmlns:u="x"/>'), 'AddPortMapping'),
    ).toEqual({})
  })

  it('validates mapping entries', () => {
    const entry = parseMappingEntry({
      NewExternalPort: '8080',
      NewProtocol: 'tcp',
      NewInternalPort: '80',
      NewInternalClient: '10.1.0.2',
      NewEnabled: '1',
      NewPortMappingDescription: 'pyp2p',
      NewLeaseDuration: '3599',
    })
    expect(entry).toMatchObject({
      externalPort: 8080,
      protocol: 'TCP',
      internalPort: 80,
      leaseDuration: 3599,
    })
    expect(() =>
      parseMappingEntry({ NewExternalPort: '70000', NewProtocol: 'TCP', NewInternalPort: '1' }),
    ).toThrow(NatError)
    expect(() =>
      parseMappingEntry({ NewExternalPort: '1', NewProtocol: 'SCTP', NewInternalPort: '1' }),
    ).toThrow(NatError)
  })

  it('never throws anything but NatError on arbitrary documents (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.string()), (doc, fields) => {
        for (const f of [
          () => parseUpnpFault(doc),
          () => parseActionResponse(doc, 'GetExternalIPAddress'),
          () => parseMappingEntry(fields),
        ]) {
          try {
            f()
          } catch (err) {
            expect(err).toBeInstanceOf(NatError)
          }
        }
      }),
    )
  })
})
