// Test helpers on loopback only: a UPnP IGD that answers like a router would, including the errors
// miniupnpd never returns (725 only-permanent leases, 718 conflicts on demand, 606), served from
// the description documents captured from miniupnpd 2.3.1 in the lab (test/data).
import { createSocket } from 'node:dgram'
import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseXml } from '../../src/xml.js'

export interface FakeIgdOptions {
  version: 1 | 2
  /** answer AddPortMapping with a non-zero lease by 725 */
  onlyPermanent?: boolean
  /** external ports that answer 718 */
  taken?: Set<number>
  /** answer every Add* by 606 */
  refuse?: boolean
  /** IGD v2 without AddAnyPortMapping (401) */
  noAnyPortMapping?: boolean
  /** answer 724 unless external port = internal port */
  samePortRequired?: boolean
  externalIp?: string
  /** keep SSDP answers back (as a device waiting out MX does) until releaseSsdp() */
  holdSsdp?: boolean
}

export interface FakeMapping {
  protocol: string
  externalPort: number
  internalClient: string
  internalPort: number
  description: string
  lease: number
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export async function startFakeIgd(opts: FakeIgdOptions) {
  const desc = readFileSync(new URL(`../data/rootDesc-igd${opts.version}.xml`, import.meta.url), 'utf8')
  const service = `urn:schemas-upnp-org:service:WANIPConnection:${opts.version}`
  const table = new Map<string, FakeMapping>()
  const calls: string[] = []

  const reply = (res: ServerResponse, action: string, fields: Record<string, string | number>) => {
    const inner = Object.entries(fields)
      .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
      .join('')
    res.writeHead(200, { 'content-type': 'text/xml; charset="utf-8"' })
    res.end(
      `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:${action}Response xmlns:u="${service}">${inner}</u:${action}Response></s:Body></s:Envelope>`,
    )
  }
  const fault = (res: ServerResponse, code: number, text: string) => {
    res.writeHead(500, { 'content-type': 'text/xml; charset="utf-8"' })
    res.end(
      `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>${code}</errorCode><errorDescription>${text}</errorDescription></UPnPError></detail></s:Fault></s:Body></s:Envelope>`,
    )
  }

  const handle = (req: IncomingMessage, body: string, res: ServerResponse) => {
    if (req.method === 'GET' && req.url === '/rootDesc.xml') {
      res.writeHead(200, { 'content-type': 'text/xml' })
      return res.end(desc)
    }
    if (req.method !== 'POST' || req.url !== '/ctl/IPConn') {
      res.writeHead(404)
      return res.end()
    }
    const envelope = parseXml(body)
    const call = envelope.children[0]?.children[0]
    if (call === undefined) return fault(res, 401, 'Invalid Action')
    const action = call.name.replace(/^.*:/, '')
    calls.push(action)
    const arg: Record<string, string> = {}
    for (const c of call.children) arg[c.name] = c.text
    const key = `${arg.NewProtocol}:${arg.NewExternalPort}`
    switch (action) {
      case 'GetExternalIPAddress':
        return reply(res, action, { NewExternalIPAddress: opts.externalIp ?? '11.0.0.100' })
      case 'AddPortMapping':
      case 'AddAnyPortMapping': {
        if (action === 'AddAnyPortMapping' && (opts.version === 1 || opts.noAnyPortMapping)) {
          return fault(res, 401, 'Invalid Action')
        }
        if (opts.samePortRequired && arg.NewExternalPort !== arg.NewInternalPort) {
          return fault(res, 724, 'SamePortValuesRequired')
        }
        if (opts.refuse) return fault(res, 606, 'Action not authorized')
        const lease = Number(arg.NewLeaseDuration)
        if (opts.onlyPermanent && lease !== 0) return fault(res, 725, 'OnlyPermanentLeasesSupported')
        let port = Number(arg.NewExternalPort)
        const busy = (p: number) =>
          opts.taken?.has(p) ||
          (table.has(`${arg.NewProtocol}:${p}`) &&
            table.get(`${arg.NewProtocol}:${p}`)?.internalClient !== arg.NewInternalClient)
        if (busy(port)) {
          if (action === 'AddPortMapping') return fault(res, 718, 'ConflictInMappingEntry')
          while (busy(port)) port++
        }
        table.set(`${arg.NewProtocol}:${port}`, {
          protocol: arg.NewProtocol ?? '',
          externalPort: port,
          internalClient: arg.NewInternalClient ?? '',
          internalPort: Number(arg.NewInternalPort),
          description: arg.NewPortMappingDescription ?? '',
          lease,
        })
        return action === 'AddAnyPortMapping'
          ? reply(res, action, { NewReservedPort: port })
          : reply(res, action, {})
      }
      case 'DeletePortMapping':
        if (!table.delete(key)) return fault(res, 714, 'NoSuchEntryInArray')
        return reply(res, action, {})
      case 'GetSpecificPortMappingEntry': {
        const m = table.get(key)
        if (m === undefined) return fault(res, 714, 'NoSuchEntryInArray')
        return reply(res, action, {
          NewInternalPort: m.internalPort,
          NewInternalClient: m.internalClient,
          NewEnabled: 1,
          NewPortMappingDescription: m.description,
          NewLeaseDuration: m.lease,
        })
      }
      case 'GetGenericPortMappingEntry': {
        const m = [...table.values()][Number(arg.NewPortMappingIndex)]
        if (m === undefined) return fault(res, 713, 'SpecifiedArrayIndexInvalid')
        return reply(res, action, {
          NewRemoteHost: '',
          NewExternalPort: m.externalPort,
          NewProtocol: m.protocol,
          NewInternalPort: m.internalPort,
          NewInternalClient: m.internalClient,
          NewEnabled: 1,
          NewPortMappingDescription: m.description,
          NewLeaseDuration: m.lease,
        })
      }
      default:
        return fault(res, 401, 'Invalid Action')
    }
  }

  const http = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res))
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const httpPort = (http.address() as AddressInfo).port

  const ssdp = createSocket('udp4')
  let hold = opts.holdSsdp === true
  const held: Array<() => void> = []
  let searches = 0
  ssdp.on('message', (msg, rinfo) => {
    const st = /\r\nST: *(.*)\r\n/i.exec(msg.toString())?.[1]?.trim()
    if (st === undefined || !st.startsWith('urn:schemas-upnp-org:device:InternetGatewayDevice:')) return
    if (opts.version === 1 && st.endsWith(':2')) return
    searches++
    const answer = () =>
      ssdp.send(
        `HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: ${st}\r\nUSN: uuid:fake::${st}\r\nEXT:\r\nSERVER: fake-igd/1 UPnP/1.1\r\nLOCATION: http://127.0.0.1:${httpPort}/rootDesc.xml\r\n\r\n`,
        rinfo.port,
        rinfo.address,
      )
    if (hold) held.push(answer)
    else answer()
  })
  await new Promise<void>((resolve) => ssdp.bind(0, '127.0.0.1', resolve))

  return {
    table,
    calls,
    location: `http://127.0.0.1:${httpPort}/rootDesc.xml`,
    ssdpTarget: { address: '127.0.0.1', port: (ssdp.address() as AddressInfo).port },
    /** M-SEARCHes received (for an IGD device type we answer) */
    searches: () => searches,
    /** answers held back so far (holdSsdp) */
    heldAnswers: () => held.length,
    /** stop holding answers back (those held are dropped, as if their sender had gone) */
    releaseSsdp() {
      hold = false
      held.length = 0
    },
    async close() {
      ssdp.close()
      http.closeAllConnections()
      await new Promise<void>((resolve) => http.close(() => resolve()))
    },
  }
}
